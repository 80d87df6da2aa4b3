/**
 * The near cache and its stream tracker, deterministically: every rule that
 * turns a possibly missed invalidation into a drop, and the reservation race.
 */
import t from 'tap';
import { NearCache } from '../src/near/near-cache.js';
import { StreamTracker } from '../src/near/stream-tracker.js';

function setup(maxEntries = 100) {
  let now = 1_000_000;
  const near = new NearCache({ maxEntries, maxTtlMs: 60_000, now: () => now });
  const tracker = new StreamTracker(near);
  const store = (key: string, partition: number, value: unknown, source = 'A', epoch = 7, seq = 0) => {
    const token = near.reserve(key, partition);
    return tracker.accept(partition, source, epoch, seq) && near.complete(key, token, value, partition, 0);
  };
  return { near, tracker, store, advance: (ms: number) => (now += ms) };
}

t.test('a reply is kept only with a live reservation, a subscription and the tracked epoch', async (t) => {
  const { near, tracker, store } = setup();
  t.notOk(store('k', 1, 'v'), 'not subscribed at the source: not kept');
  tracker.subscribed('A', [11, false, [[1, 7, 0]]]);
  t.ok(store('k', 1, 'v'), 'subscribed, same epoch: kept');
  t.equal(near.lookup('k'), 'v');
  // the race: an invalidation lands between the reservation and the reply
  const token = near.reserve('r', 1);
  tracker.events([[1, 7, 1, 'r', 100]]);
  t.notOk(near.complete('r', token, 'old', 1, 0), 'a reply that raced with an invalidation is dropped');
  t.equal(near.stats().raced, 1);
  // a reply from another epoch (new primary) drops the partition and is not kept
  t.notOk(store('x', 1, 'v', 'A', 8, 0), 'another epoch: not kept');
  t.equal(near.lookup('k'), undefined, 'and the partition was dropped');
});

t.test('events: the key is dropped; a gap or a new epoch drops the partition', async (t) => {
  const { near, tracker, store } = setup();
  tracker.subscribed('A', [
    1,
    false,
    [
      [1, 7, 0],
      [2, 9, 0],
    ],
  ]);
  store('a', 1, 'a');
  store('b', 1, 'b');
  store('c', 2, 'c', 'A', 9);
  const seen: [string, number | undefined][] = [];
  near.onInvalidate = (key, version) => seen.push([key, version]);
  tracker.events([[1, 7, 1, 'a', 50]]);
  t.notOk(near.holds('a'), 'the invalidated key is gone');
  t.ok(near.holds('b') && near.holds('c'), 'the rest stays');
  t.same(seen, [['a', 50]], 'the hook sees the key and the version');
  tracker.events([[1, 7, 3, 'zz', 51]]);
  t.notOk(near.holds('b'), 'a sequence gap drops the partition');
  t.ok(near.holds('c'), 'other partitions stay');
  tracker.events([[2, 10, 1, 'other', 52]]);
  t.notOk(near.holds('c'), 'a new epoch drops the partition');
  t.throws(() => tracker.events([[1, 7]]), { code: 'SHOAL_PROTOCOL_INVALID' });
  t.throws(() => tracker.events('nope'), { code: 'SHOAL_PROTOCOL_INVALID' });
});

t.test('renewals: events lost since the last renewal, a lapsed lease or a restarted source drop', async (t) => {
  const { near, tracker, store } = setup();
  tracker.subscribed('A', [
    1,
    false,
    [
      [1, 7, 0],
      [2, 7, 0],
    ],
  ]);
  store('a', 1, 'a');
  store('b', 2, 'b');
  tracker.subscribed('A', [
    1,
    true,
    [
      [1, 7, 5],
      [2, 7, 0],
    ],
  ]);
  t.ok(near.holds('a'), 'a reply ahead of events still in flight is tolerated once');
  tracker.subscribed('A', [
    1,
    true,
    [
      [1, 7, 5],
      [2, 7, 0],
    ],
  ]);
  t.notOk(near.holds('a'), 'one renewal later the missing events mean a drop');
  t.ok(near.holds('b'));
  tracker.subscribed('A', [1, false, [[2, 7, 0]]]);
  t.notOk(near.holds('b'), 'a lapsed lease drops the source partitions');
  store('b', 2, 'b');
  tracker.subscribed('A', [2, true, [[2, 7, 0]]]);
  t.notOk(near.holds('b'), 'a restarted source (new incarnation) drops them too');
  t.throws(() => tracker.subscribed('A', 'junk'), { code: 'SHOAL_PROTOCOL_INVALID' });
});

t.test('disconnects clear everything; table changes drop the moved partitions', async (t) => {
  const { near, tracker, store } = setup();
  tracker.tableChanged(['A', 'A', 'B']);
  tracker.subscribed('A', [
    1,
    false,
    [
      [0, 1, 0],
      [1, 1, 0],
    ],
  ]);
  tracker.subscribed('B', [2, false, [[2, 1, 0]]]);
  store('p0', 0, 0);
  store('p1', 1, 1);
  store('p2', 2, 2, 'B', 1);
  t.ok(tracker.tableChanged(['A', 'B', 'B']), 'partition 1 moved');
  t.ok(near.holds('p0') && near.holds('p2'));
  t.notOk(near.holds('p1'), 'the moved partition is dropped');
  t.notOk(tracker.tableChanged(['A', 'B', 'B']), 'no change, no drop');
  t.notOk(tracker.lost('C'), 'a source never subscribed to: nothing happens');
  t.ok(tracker.lost('B'));
  t.equal(near.stats().entries, 0, 'a lost stream clears the whole near cache');
  t.notOk(tracker.isSubscribed('B'));
  t.same(tracker.subscribedSources(), ['A']);
});

t.test('entries expire at the primary deadline or the TTL cap; eviction gives a second chance', async (t) => {
  const { near, tracker, advance } = setup(2);
  tracker.subscribed('A', [1, false, [[0, 1, 0]]]);
  const put = (key: string, expiresAt = 0) => near.complete(key, near.reserve(key, 0), key, 0, expiresAt);
  put('short', 1_000_000 + 100);
  advance(150);
  t.equal(near.lookup('short'), undefined, 'expired at the primary deadline');
  put('a');
  put('b');
  near.lookup('a');
  put('c');
  t.ok(near.holds('a'), 'a referenced entry survives one eviction round');
  t.notOk(near.holds('b'), 'the unreferenced one goes');
  advance(60_001);
  t.equal(near.lookup('a'), undefined, 'the TTL cap applies');
  t.notOk(put('undefined-value') && near.holds('nothing'), 'an absent value is not stored');
  t.notOk(near.complete('nothing', near.reserve('nothing', 0), undefined, 0, 0), 'undefined is not stored');
  const stats = near.stats();
  t.equal(stats.evictions, 1);
  t.ok(stats.hitRatio > 0 && stats.hitRatio < 1);
});
