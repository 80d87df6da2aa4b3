import t from 'tap';
import { findOnPath, startRedisServer } from '../src/lib/redis-anchor.js';
import { infoNumber, parseRedisInfo } from '../src/lib/redis-info.js';
import { formatValue } from '../src/report/format.js';
import { runTask } from '../src/runner/child-runner.js';
import type { MemoryInput, MemoryRun, RedisMemoryInput } from '../src/scenarios/memory/memory-tasks.js';
import { entryKey, entryValue } from '../src/scenarios/memory/memory-tasks.js';
import { memorySection, QUICK } from '../src/scenarios/memory.js';

t.test('redis INFO parser reads fields across sections and CRLF lines', async (t) => {
  const text =
    '# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n\r\n# Stats\r\nodd line\r\nkeyspace_hits:7\r\n';
  const info = parseRedisInfo(text);
  t.equal(info.get('used_memory_human'), '1.00M');
  t.equal(infoNumber(info, 'used_memory'), 1048576);
  t.equal(infoNumber(info, 'keyspace_hits'), 7);
  t.equal(info.has('odd line'), false);
  t.throws(() => infoNumber(info, 'used_memory_rss'), /used_memory_rss/);
  t.throws(() => infoNumber(info, 'used_memory_human'), /used_memory_human/);
});

t.test('memory entries are the same keys and fixed-length values for both contenders', async (t) => {
  t.equal(entryKey(42), 'key:42');
  t.equal(entryValue(42, 20), 'v42:xxxxxxxxxxxxxxxx');
  t.equal(entryValue(999_999, 20).length, 20);
});

const run = (bytesPerEntry: number, externalBytesPerEntry: number, rss: number): MemoryRun => ({
  entries: 50_000,
  bytesPerEntry,
  rssBytesPerEntry: rss,
  externalBytesPerEntry,
  fillMs: 100,
});

t.test('memory section compares heap+external with used_memory, and RSS with RSS', async (t) => {
  const s = memorySection(
    [run(150, 50, 300), run(170, 50, 320), run(160, 50, 280)],
    [run(100, 0, 110), run(100, 0, 120)],
    '7.0.15',
    QUICK,
  );
  t.same(
    s.comparisons.map((c) => [c.metric, c.subjectValue.median, c.anchorValue.median]),
    [
      ['heap+external vs used_memory B/entry @ 50k keys, 20-byte values', 210, 100],
      ['RSS vs used_memory_rss B/entry @ 50k keys, 20-byte values', 300, 115],
    ],
  );
  t.equal(s.comparisons[0]?.ratio, 2.1);
  t.equal(s.tables[0]?.rows.length, 2);
  t.equal(s.tables[0]?.rows[0]?.[3], '2.10x');
  t.equal(
    s.tables[0]?.rows[0]?.[2],
    `${formatValue('bytes', 210)} (${formatValue('bytes', 200)}-${formatValue('bytes', 220)})`,
  );
  t.match(s.charts[0]?.svg ?? '', /<svg[^>]*>/);

  const alone = memorySection([run(150, 50, 300)], null, null, QUICK);
  t.equal(alone.comparisons.length, 0);
  t.equal(alone.tables[0]?.rows[0]?.[3], 'n/a');
});

t.test('memory tasks fill a real node and a real redis-server and measure growth per entry', async (t) => {
  const input: MemoryInput = { entries: 5000, valueBytes: 20, batch: 500 };
  const shoal = await runTask<MemoryInput, MemoryRun>({
    module: new URL('../src/scenarios/memory/memory-tasks.js', import.meta.url),
    exportName: 'shoalMemory',
    input,
    timeoutMs: 60_000,
  });
  t.equal(shoal.entries, 5000);
  // 5000 entries of a 6-9 byte key and a 20-byte value cannot cost less than their characters
  t.ok(
    shoal.bytesPerEntry + shoal.externalBytesPerEntry > 26,
    `${shoal.bytesPerEntry} + ${shoal.externalBytesPerEntry}`,
  );
  t.ok(shoal.bytesPerEntry < 5000, `heap per entry ${shoal.bytesPerEntry}`);

  const bin = findOnPath('redis-server');
  if (bin === null) {
    t.comment('redis-server is not on PATH: the Redis half is not run');
    return;
  }
  const server = await startRedisServer(bin);
  t.teardown(() => server.stop());
  const redis = await runTask<RedisMemoryInput, MemoryRun>({
    module: new URL('../src/scenarios/memory/memory-tasks.js', import.meta.url),
    exportName: 'redisMemory',
    input: { ...input, port: server.port },
    timeoutMs: 60_000,
  });
  t.equal(redis.entries, 5000);
  t.ok(redis.bytesPerEntry > 26 && redis.bytesPerEntry < 1000, `used_memory per key ${redis.bytesPerEntry}`);
});
