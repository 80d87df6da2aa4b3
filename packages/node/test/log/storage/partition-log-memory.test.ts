import t from 'tap';
import { PartitionLog } from '../../../src/log/storage/partition-log.js';
import { messages, openLog, partitionLogContract, throwsCode } from './partition-log-contract.js';

partitionLogContract(t, 'memory', (_t, extra) => ({ maxMessages: 1_000_000, chunkRecords: 16, ...extra }));

t.test('PartitionLog (memory) retention by count keeps exactly the newest maxMessages', async (t) => {
  const log = openLog(t, { maxMessages: 50, chunkRecords: 16 });
  log.append(messages(120));
  t.equal(log.stats().messages, 120, 'retention waits for enforceRetention');
  t.same(log.enforceRetention(0), { removedMessages: 70, removedSegments: 0, more: false });
  t.same([log.startOffset, log.endOffset], [70, 120]);
  t.same(
    log.read(70, { maxMessages: 2 }).map((r) => r.offset),
    [70, 71],
  );
  t.same(
    throwsCode(t, () => log.read(69), 'SHOAL_LOG_OFFSET_OUT_OF_RANGE', 'a removed offset'),
    {
      offset: 69,
      startOffset: 70,
      endOffset: 120,
    },
  );
  t.same(log.enforceRetention(0), { removedMessages: 0, removedSegments: 0, more: false }, 'nothing more to do');
  log.append(messages(10, 120));
  t.same(log.append(messages(1, 130)), { baseOffset: 130, lastOffset: 130 }, 'offsets continue after retention');
});

t.test('PartitionLog (memory) retention by bytes keeps the sum of sizes within maxBytes', async (t) => {
  const log = openLog(t, { maxBytes: 10_000, chunkRecords: 16 });
  for (let i = 0; i < 50; i++) log.append([{ value: 'v'.repeat(500), key: `k${i % 10}` }]);
  const size = log.read(0)[0]!.size;
  t.equal(log.stats().bytes, 50 * size);
  log.enforceRetention(0);
  const kept = Math.floor(10_000 / size);
  t.equal(log.stats().messages, kept, `${kept} records of ${size} bytes fit`);
  t.ok(log.stats().bytes <= 10_000);
  t.equal(log.stats().bytes, kept * size);
  t.equal(log.startOffset, 50 - kept);
});

t.test('PartitionLog (memory) retention by age removes records older than maxAgeMs at the given now', async (t) => {
  const log = openLog(t, { maxMessages: 1000, maxAgeMs: 1000, chunkRecords: 16 });
  log.append(Array.from({ length: 100 }, (_, i) => ({ value: i, timestamp: 10_000 + i * 100 })));
  t.equal(log.enforceRetention(10_000 + 1000).removedMessages, 0, 'the oldest is exactly maxAgeMs old: kept');
  t.equal(log.enforceRetention(10_000 + 1001).removedMessages, 1);
  log.enforceRetention(10_000 + 5000 + 1000);
  t.equal(log.startOffset, 50, 'records with timestamp < now - maxAgeMs are gone');
  log.enforceRetention(10_000_000);
  t.same([log.startOffset, log.endOffset, log.stats().bytes], [100, 100, 0], 'everything expired');
  t.same(log.read(100), []);
});

t.test('PartitionLog (memory) enforceRetention bounds its work and says when there is more', async (t) => {
  const log = openLog(t, { maxMessages: 10, maxRetentionWork: 100, chunkRecords: 16 });
  log.append(messages(1000));
  const rounds = [];
  for (let r = log.enforceRetention(0); ; r = log.enforceRetention(0)) {
    rounds.push(r.removedMessages);
    if (!r.more) break;
  }
  t.same(rounds, [100, 100, 100, 100, 100, 100, 100, 100, 100, 90]);
  t.same([log.startOffset, log.endOffset], [990, 1000]);
});

t.test('PartitionLog (memory) keeps values by reference and drops removed records for the GC', async (t) => {
  const log = openLog(t, { maxMessages: 16, chunkRecords: 16 });
  const value = { shared: true };
  log.append([{ value }]);
  t.equal(log.read(0)[0]!.value, value, 'no copy in memory mode');
  log.append(messages(100));
  log.enforceRetention(0);
  t.equal(log.stats().cachedMessages, 16);
  t.equal(log.stats().segments, 0);
  t.equal(log.stats().recovery, undefined);
});

t.test(
  'PartitionLog (memory) offsets stay dense over a long random mix of appends, truncations and retention',
  async (t) => {
    const log = openLog(t, { maxMessages: 300, chunkRecords: 16 });
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let next = 0;
    for (let step = 0; step < 2000; step++) {
      const r = rand(10);
      if (r < 7) {
        const n = 1 + rand(40);
        t.equal(log.append(Array.from({ length: n }, (_, i) => ({ value: next + i }))).baseOffset, next);
        next += n;
      } else if (r < 8 && log.endOffset > log.startOffset) {
        next = log.startOffset + rand(log.endOffset - log.startOffset);
        log.truncateFrom(next);
      } else {
        log.enforceRetention(0);
      }
      if (log.endOffset !== next) t.fail(`step ${step}: end ${log.endOffset}, expected ${next}`);
    }
    const all = log.read(log.startOffset, { maxMessages: 10_000, maxBytes: Number.POSITIVE_INFINITY });
    t.same(
      all.map((r) => r.value),
      all.map((r) => r.offset),
      'every record holds the value written at its offset',
    );
    t.equal(all.length, log.endOffset - log.startOffset);
  },
);

t.test('PartitionLog options are validated once, naming the option', async (t) => {
  const bad: [Record<string, unknown>, string][] = [
    [{}, 'maxMessages'],
    [{ maxMessages: 0 }, 'maxMessages'],
    [{ maxMessages: 10, maxAge: 5 }, 'maxAge'],
    [{ maxMessages: 10, fsync: 'sometimes' }, 'fsync'],
    [{ maxMessages: 10, chunkRecords: 100 }, 'chunkRecords'],
    [{ maxMessages: 10, segmentBytes: 10 }, 'segmentBytes'],
    [{ maxMessages: 10, maxMessageBytes: '2gb' }, 'maxMessageBytes'],
    [{ maxMessages: 10, maxAgeMs: -1 }, 'maxAgeMs'],
    [{ maxBytes: 'lots' }, 'maxBytes'],
    [{ dir: '' }, 'dir'],
  ];
  for (const [options, option] of bad) {
    const details = throwsCode(t, () => new PartitionLog(options as never), 'SHOAL_CONFIG_INVALID', option);
    t.equal(details.option, option);
  }
  try {
    new PartitionLog({ maxMessages: 1, maxAge: 5 } as never);
  } catch (err) {
    t.match((err as Error).message, /did you mean maxAgeMs/);
  }
  const log = new PartitionLog({ maxBytes: '1mb' });
  t.equal(log.options.maxBytes, 1024 * 1024);
  t.equal(log.options.fsync, 'interval');
  t.equal(log.options.segmentBytes, 64 * 1024 * 1024);
  t.ok(Object.isFrozen(log.options));
});
