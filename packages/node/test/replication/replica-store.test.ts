import t from 'tap';
import { LocalCache, ManualClock } from '../../src/index.js';
import { ReplicaStore } from '../../src/replication/replica-store.js';
import { turnsDuring } from '../turns.js';

// partition = first character's code mod 4: hand-checkable
const partitionOf = (key: string) => key.charCodeAt(0) % 4;

const make = (nodeId: string, clock = new ManualClock()) =>
  new ReplicaStore(
    new LocalCache({ maxEntries: 10_000, nodeId, clock, sweepIntervalMs: 0 }),
    partitionOf,
    clock,
    60_000,
  );

t.test('ReplicaStore afterWrite returns the entry, or a tombstone when the write removed the key', async (t) => {
  const s = make('a');
  s.cache.set('k', 1);
  t.match(s.afterWrite('k', false), { kind: 'value', value: 1, origin: 'a' });
  s.cache.delete('k');
  const tomb = s.afterWrite('k', true);
  t.match(tomb, { kind: 'tombstone', origin: 'a' });
  t.equal(s.tombstoneCount, 1);
  t.equal(s.afterWrite('never', false), undefined);
  t.same(s.record('k'), tomb);
});

t.test(
  'ReplicaStore apply is last-writer-wins against entries and tombstones, so deletes never resurrect',
  async (t) => {
    const clock = new ManualClock();
    const a = make('a', clock);
    const b = make('b', clock);
    a.cache.set('k', 'v1');
    const v1 = a.afterWrite('k', false);
    clock.advance(1);
    a.cache.delete('k');
    const tomb = a.afterWrite('k', true);
    t.ok(b.apply('k', tomb as never), 'tombstone applied on an empty replica');
    t.notOk(b.apply('k', v1 as never), 'the older value arriving late is refused');
    t.equal(b.cache.has('k'), false);
    clock.advance(1);
    a.cache.set('k', 'v2');
    const v2 = a.afterWrite('k', false);
    t.ok(b.apply('k', v2 as never), 'a newer write replaces the tombstone');
    t.equal(b.cache.get('k'), 'v2');
    t.equal(b.tombstoneCount, 0);
    t.notOk(b.apply('k', tomb as never), 'the old tombstone cannot delete the newer value');
    t.throws(() => b.apply('k', { kind: 'bogus' } as never), { code: 'SHOAL_PROTOCOL_INVALID' });
  },
);

t.test('ReplicaStore scanPartitions pages entries then tombstones of the asked partitions only', async (t) => {
  const s = make('a');
  for (let i = 0; i < 500; i++) s.cache.set(`${String.fromCharCode(97 + (i % 4))}${i}`, i);
  s.cache.delete('a0');
  s.afterWrite('a0', true);
  const seen = new Map<string, string>();
  let cursor = 0;
  let pages = 0;
  do {
    const page = s.scanPartitions(new Set([partitionOf('a')]), cursor, 40);
    for (const [key, record] of page.items) seen.set(key, record.kind);
    cursor = page.cursor;
    pages++;
  } while (cursor !== 0 && pages < 100);
  t.ok(pages > 2, 'paged');
  t.equal(seen.size, 125, '124 live keys of partition 1 plus the tombstone');
  t.equal(seen.get('a0'), 'tombstone');
  t.ok([...seen.keys()].every((k) => partitionOf(k) === partitionOf('a')));
});

t.test('ReplicaStore digests agree exactly when copies hold the same versions', async (t) => {
  const a = make('a');
  const b = make('b');
  for (let i = 0; i < 100; i++) a.cache.set(`k${i}`, i);
  const all = new Set([0, 1, 2, 3]);
  t.notSame([...(await a.digests(all))], [...(await b.digests(all))]);
  for (let i = 0; i < 100; i++) b.apply(`k${i}`, a.record(`k${i}`) as never);
  t.same([...(await a.digests(all))], [...(await b.digests(all))]);
  a.cache.set('k5', 'changed');
  a.afterWrite('k5', true);
  const da = await a.digests(all);
  const db = await b.digests(all);
  const differing = [...all].filter((p) => da.get(p) !== db.get(p));
  t.same(differing, [partitionOf('k5')], 'only the partition of the changed key differs');
});

t.test('ReplicaStore digests of a large store read it in turns: the event loop runs in between', async (t) => {
  const a = make('a');
  for (let i = 0; i < 20_000; i++) a.cache.set(`k${i}`, i);
  const { result: digests, turns } = await turnsDuring(() => a.digests(new Set([0, 1, 2, 3])));
  t.equal(digests.size, 4);
  t.ok(turns >= 2, `${turns} event-loop turns ran while 20k keys were digested (none when read in one go)`);
});

t.test('ReplicaStore dropPartitions and purgeTombstones', async (t) => {
  const clock = new ManualClock();
  const s = make('a', clock);
  for (const key of ['a1', 'b1', 'c1', 'd1']) s.cache.set(key, 1);
  s.cache.delete('a1');
  s.afterWrite('a1', true);
  t.equal(
    s.dropPartitions((p) => p !== partitionOf('b')),
    1,
  );
  t.same(
    ['a1', 'b1', 'c1', 'd1'].map((k) => s.cache.has(k)),
    [false, false, true, true],
  );
  t.equal(s.purgeTombstones(), 0);
  clock.advance(60_001);
  t.equal(s.purgeTombstones(), 1);
  t.equal(s.record('a1'), undefined);
});
