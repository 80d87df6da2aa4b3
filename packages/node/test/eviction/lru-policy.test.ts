import t from 'tap';
import { LruPolicy } from '../../src/eviction/lru-policy.js';
import { SimCache } from './sim-cache.js';

function drain(policy: LruPolicy): number[] {
  const order: number[] = [];
  for (let v = policy.victim(-1); v !== -1; v = policy.victim(-1)) {
    order.push(v);
    policy.remove(v);
  }
  return order;
}

t.test('LruPolicy evicts in exact least-recently-used order', async (t) => {
  const policy = new LruPolicy(6);
  for (let s = 0; s < 6; s++) policy.insert(s, 0);
  policy.touch(2);
  policy.touch(0);
  policy.touch(0); // already the most recent: no change
  policy.touch(5);
  policy.touch(2);
  t.same(drain(policy), [1, 3, 4, 0, 5, 2]);
});

t.test('LruPolicy victim skips the protected slot only when it is the oldest', async (t) => {
  const policy = new LruPolicy(3);
  for (let s = 0; s < 3; s++) policy.insert(s, 0);
  t.equal(policy.victim(0), 1);
  t.equal(policy.victim(1), 0);
  t.equal(policy.victim(2), 0);
});

t.test('LruPolicy remove in the middle, at the head and at the tail keeps the order', async (t) => {
  const policy = new LruPolicy(5);
  for (let s = 0; s < 5; s++) policy.insert(s, 0);
  policy.remove(2);
  policy.remove(0);
  policy.remove(4);
  policy.insert(0, 0);
  t.same(drain(policy), [1, 3, 0]);
});

t.test('LruPolicy in a cache keeps the most recently used keys', async (t) => {
  const cache = new SimCache(new LruPolicy(), 3);
  for (const key of [1, 2, 3, 1, 4, 5]) cache.access(key);
  t.same(
    cache.keys().sort((a, b) => a - b),
    [1, 4, 5],
  );
  t.equal(cache.hits, 1);
});
