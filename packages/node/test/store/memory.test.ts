import t from 'tap';
import { isShoalError, LocalCache } from '../../src/index.js';
import { ENTRY_OVERHEAD_BYTES } from '../../src/store/value-size.js';

t.test('LocalCache memory budget is never exceeded by accounting', async (t) => {
  const c = new LocalCache({ memory: '64kb', eviction: 'lru' });
  let maxSeen = 0;
  for (let i = 0; i < 5000; i++) {
    const op = i % 7;
    if (op === 0) c.hset(`h${i % 50}`, `f${i}`, 'x'.repeat(i % 300));
    else if (op === 1) c.rpush(`l${i % 50}`, 'y'.repeat(i % 200));
    else c.set(`k${i}`, 'z'.repeat(i % 500));
    maxSeen = Math.max(maxSeen, c.stats().bytes);
  }
  t.ok(maxSeen <= 64 * 1024, `peak accounted ${maxSeen} <= 65536`);
  t.ok(c.stats().evictions > 0);
});

t.test('LocalCache memory accounting follows overwrites, hashes, lists and deletes back to zero', async (t) => {
  const c = new LocalCache({ memory: '1mb' });
  c.set('a', 'x'.repeat(100));
  t.equal(c.stats().bytes, ENTRY_OVERHEAD_BYTES + 1 + 100);
  c.set('a', 'x'.repeat(10));
  t.equal(c.stats().bytes, ENTRY_OVERHEAD_BYTES + 1 + 10);
  c.hset('h', { f1: 'aaa', f2: 'bbbb' });
  c.hset('h', 'f1', 'a');
  c.hdel('h', 'f2');
  c.rpush('l', 'one', 'two', { three: 3 });
  c.lpop('l');
  c.incr('n', 5);
  c.incr('n', 5);
  t.ok(c.stats().bytes > 0);
  for (const key of ['a', 'h', 'l', 'n']) c.delete(key);
  t.equal(c.stats().bytes, 0, 'every delta was undone');
});

t.test('LocalCache rejects an entry larger than the whole budget with SHOAL_VALUE_TOO_LARGE', async (t) => {
  const c = new LocalCache({ memory: 1000 });
  t.equal(c.options.maxValueBytes, 1000, 'maxValueBytes is capped at the budget');
  t.ok(
    isShoalError(
      t.throws(() => c.set('k', 'x'.repeat(950))),
      'SHOAL_VALUE_TOO_LARGE',
    ),
    'with overhead',
  );
  c.hset('h', 'f', 'x'.repeat(500));
  t.ok(
    isShoalError(
      t.throws(() => c.hset('h', 'g', 'x'.repeat(500))),
      'SHOAL_VALUE_TOO_LARGE',
    ),
  );
  t.same(Object.keys(c.hgetall('h')), ['f'], 'the failed hset changed nothing');
});

t.test('LocalCache maxEntries and memory together: both bounds hold', async (t) => {
  const c = new LocalCache({ maxEntries: 100, memory: '10kb' });
  for (let i = 0; i < 1000; i++) c.set(`k${i}`, 'x'.repeat(i % 2 === 0 ? 10 : 400));
  t.ok(c.size <= 100);
  t.ok(c.stats().bytes <= 10 * 1024);
});

t.test('LocalCache heap stays within 1.5x of the memory budget under a large load', async (t) => {
  // measured in a child with --expose-gc so the heap delta is exact
  const { execFileSync } = await import('node:child_process');
  const script = new URL('../fixtures/heap-check.js', import.meta.url).pathname;
  const out = execFileSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8' });
  const result = JSON.parse(out.trim()) as { ratio: number; budget: number; heap: number; bytes: number };
  t.ok(result.ratio <= 1.5, `heap ${result.heap} / budget ${result.budget} = ${result.ratio.toFixed(2)} <= 1.5`);
  t.ok(result.bytes <= result.budget, 'accounting stayed within the budget');
  t.ok(result.ratio >= 0.5, `accounting is not wildly pessimistic (${result.ratio.toFixed(2)})`);
});
