import t from 'tap';
import type { RemovalReason } from '../../src/index.js';
import { isShoalError, LocalCache, ManualClock } from '../../src/index.js';

const setup = (extra: Record<string, unknown> = {}) => {
  const clock = new ManualClock();
  const removed: [string, unknown, RemovalReason][] = [];
  const cache = new LocalCache({
    maxEntries: 100_000,
    eviction: 'lru',
    clock,
    sweepIntervalMs: 0,
    onRemove: (k, v, r) => removed.push([k, v, r]),
    ...extra,
  });
  return { clock, cache, removed };
};

t.test('LocalCache TTL: a key is readable until just before its deadline and gone exactly at it', async (t) => {
  const { clock, cache } = setup();
  cache.set('a', 1, { ttl: 1000 });
  clock.advance(999);
  t.equal(cache.get('a'), 1);
  t.equal(cache.ttl('a'), 1);
  clock.advance(1);
  t.equal(cache.get('a'), undefined, 'expired exactly at the boundary');
  t.equal(cache.has('a'), false);
  t.equal(cache.ttl('a'), -2);
  t.equal(cache.stats().expirations, 1);
});

t.test('LocalCache TTL accepts duration strings and rejects zero, negative and garbage', async (t) => {
  const { clock, cache } = setup();
  cache.set('a', 1, { ttl: '2s' });
  t.equal(cache.ttl('a'), 2000);
  clock.advance(2000);
  t.equal(cache.get('a'), undefined);
  for (const bad of [0, -5, 'soon', Number.NaN, '0s']) {
    t.ok(
      isShoalError(
        t.throws(() => cache.set('b', 1, { ttl: bad as number })),
        'SHOAL_ARGUMENT_INVALID',
      ),
      `${bad}`,
    );
  }
  t.equal(cache.has('b'), false);
  t.ok(
    isShoalError(
      t.throws(() => cache.expire('a', -1)),
      'SHOAL_ARGUMENT_INVALID',
    ),
  );
});

t.test('LocalCache expire, persist and ttl follow Redis PTTL conventions', async (t) => {
  const { clock, cache } = setup();
  t.equal(cache.expire('missing', 100), false);
  t.equal(cache.persist('missing'), false);
  cache.set('a', 1);
  t.equal(cache.ttl('a'), -1, 'no TTL');
  t.equal(cache.persist('a'), false, 'nothing to persist');
  t.equal(cache.expire('a', 500), true);
  t.equal(cache.ttl('a'), 500);
  t.equal(cache.persist('a'), true);
  t.equal(cache.ttl('a'), -1);
  clock.advance(10_000);
  t.equal(cache.get('a'), 1, 'persisted key outlives its old deadline');
  cache.hset('h', 'f', 1);
  cache.expire('h', 10);
  clock.advance(10);
  t.same(cache.hgetall('h'), {}, 'hashes expire too');
});

t.test('LocalCache set replaces the TTL unless keepTtl; defaultTtl applies when none is given', async (t) => {
  const { clock, cache } = setup({ defaultTtl: '1m' });
  cache.set('a', 1);
  t.equal(cache.ttl('a'), 60_000);
  cache.set('a', 2, { ttl: 100 });
  t.equal(cache.ttl('a'), 100);
  clock.advance(50);
  cache.set('a', 3, { keepTtl: true });
  t.equal(cache.ttl('a'), 50, 'keepTtl kept the deadline');
  cache.set('a', 4);
  t.equal(cache.ttl('a'), 60_000, 'a plain set applies the default again');
  const { cache: noDefault } = setup();
  noDefault.set('b', 1, { ttl: 100 });
  noDefault.set('b', 2);
  t.equal(noDefault.ttl('b'), -1, 'a plain set clears the TTL, as Redis SET does');
  noDefault.set('c', 1, { keepTtl: true, ttl: 300 });
  t.equal(noDefault.ttl('c'), 300, 'keepTtl on a key without TTL takes the given one');
});

t.test('LocalCache active sweep frees expired keys nobody reads, in bounded steps', async (t) => {
  const { clock, cache, removed } = setup();
  for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, 'v', { ttl: 1000 + (i % 100) });
  for (let i = 0; i < 100; i++) cache.set(`keep${i}`, 'v', { ttl: 3_600_000 });
  for (let i = 0; i < 100; i++) cache.set(`forever${i}`, 'v');
  const bytesBefore = cache.stats().bytes;
  clock.advance(999);
  t.equal(cache.purgeExpired(), 0, 'nothing is due yet');
  clock.advance(200);
  t.equal(cache.purgeExpired(1000), 1000, 'one step frees at most the work bound');
  let freed = 1000;
  for (let step = 0; step < 100 && freed < 10_000; step++) freed += cache.purgeExpired(1000);
  t.equal(freed, 10_000, 'continued steps free the rest');
  t.equal(cache.size, 200, 'keys with later or no deadlines stay');
  t.ok(cache.stats().bytes < bytesBefore / 20, 'memory is given back');
  t.equal(cache.stats().expirations, 10_000);
  t.equal(removed.length, 10_000);
  t.same(removed[0]?.[2], 'expired');
  t.equal(cache.purgeExpired(), 0);
});

t.test('LocalCache sweep skips deadlines of a later wheel revolution and frees them when due', async (t) => {
  const { clock, cache } = setup();
  const revolution = 50 * 4096;
  cache.set('later', 1, { ttl: revolution + 10 });
  cache.set('soon', 1, { ttl: 10 });
  clock.advance(20);
  t.equal(cache.purgeExpired(), 1);
  t.equal(cache.has('later'), true);
  clock.advance(revolution);
  t.equal(cache.purgeExpired(), 1);
  t.equal(cache.size, 0);
});

t.test('LocalCache sweep survives a long pause and keys re-set during the sweep', async (t) => {
  const { clock, cache } = setup({
    onRemove: (key: string) => {
      if (key === 'a1') cache.delete('a2');
    },
  });
  for (let i = 0; i < 5; i++) cache.set(`a${i}`, i, { ttl: 100 });
  clock.advance(10 * 3_600_000);
  t.equal(cache.purgeExpired(), 4, 'a hook deleting a later slot mid-sweep is handled');
  t.equal(cache.size, 0);
  cache.set('b', 1, { ttl: 5 });
  clock.advance(5);
  t.equal(cache.purgeExpired(), 1);
});

t.test('LocalCache sweep timer runs by itself and stops on close', async (t) => {
  const cache = new LocalCache({ maxEntries: 100, sweepIntervalMs: 5 });
  cache.set('a', 1, { ttl: 1 });
  const deadline = Date.now() + 5000;
  while (cache.stats().expirations === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.equal(cache.stats().expirations, 1, 'expired without a read');
  cache.close();
});

t.test('LocalCache incr on an expired counter starts again from zero', async (t) => {
  const { clock, cache } = setup();
  cache.incr('n', 5);
  cache.expire('n', 10);
  clock.advance(10);
  t.equal(cache.incr('n'), 1);
});
