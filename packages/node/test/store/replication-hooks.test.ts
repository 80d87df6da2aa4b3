import t from 'tap';
import { LocalCache, ManualClock } from '../../src/index.js';

const pair = () => {
  const clock = new ManualClock();
  const a = new LocalCache({ maxEntries: 100, nodeId: 'node-a', clock, sweepIntervalMs: 0 });
  const b = new LocalCache({ maxEntries: 100, nodeId: 'node-b', clock, sweepIntervalMs: 0 });
  return { clock, a, b };
};

t.test('LocalCache entry and applyEntry copy values, hashes, lists with version and TTL', async (t) => {
  const { a, b } = pair();
  a.set('v', { x: 1 }, { ttl: 5000 });
  a.hset('h', { f: 1, g: 'two' });
  a.rpush('l', 1, 2, 3);
  for (const key of ['v', 'h', 'l']) t.ok(b.applyEntry(key, a.entry(key) as never), `applied ${key}`);
  t.same(b.get('v'), { x: 1 });
  t.equal(b.ttl('v'), 5000);
  t.same(b.hgetall('h'), { f: 1, g: 'two' });
  t.same(b.lrange('l', 0, -1), [1, 2, 3]);
  t.same(b.entry('v'), a.entry('v'), 'identical records, origin included');
  t.equal(b.entry('v')?.origin, 'node-a');
  t.equal(a.entry('missing'), undefined);
});

t.test('LocalCache applyEntry is last-writer-wins: an older or equal version is refused', async (t) => {
  const { clock, a, b } = pair();
  a.set('k', 'old');
  const old = a.entry('k');
  clock.advance(1);
  b.set('k', 'new');
  t.notOk(b.applyEntry('k', old as never), 'older write loses');
  t.equal(b.get('k'), 'new');
  t.notOk(b.applyEntry('k', b.entry('k') as never), 'same version and writer is a no-op');
  t.ok(a.applyEntry('k', b.entry('k') as never), 'newer write wins');
  t.equal(a.get('k'), 'new');
  a.set('k', 'after');
  t.ok(
    (a.entry('k')?.version as number) > (b.entry('k')?.version as number),
    'local clock moved past the observed version',
  );
});

t.test('LocalCache applyEntry breaks an exact version tie by writer id on both sides', async (t) => {
  const { a, b } = pair();
  a.set('k', 'from-a');
  const fromA = a.entry('k');
  const fromB = { ...(fromA as object), origin: 'node-b', value: 'from-b' } as never;
  const c1 = new LocalCache({ maxEntries: 10 });
  const c2 = new LocalCache({ maxEntries: 10 });
  c1.applyEntry('k', fromA as never);
  c1.applyEntry('k', fromB);
  c2.applyEntry('k', fromB);
  c2.applyEntry('k', fromA as never);
  t.equal(c1.get('k'), 'from-b');
  t.equal(c2.get('k'), 'from-b', 'both replicas converge on the same winner');
  t.equal(b.size, 0);
});

t.test('LocalCache applyEntry of an already expired record removes an older local copy', async (t) => {
  const { clock, a, b } = pair();
  b.set('k', 'stale');
  clock.advance(1);
  a.set('k', 'short', { ttl: 10 });
  const record = a.entry('k');
  clock.advance(10);
  t.ok(b.applyEntry('k', record as never));
  t.equal(b.has('k'), false);
});
