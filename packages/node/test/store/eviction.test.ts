import t from 'tap';
import type { RemovalReason } from '../../src/index.js';
import { LocalCache } from '../../src/index.js';

t.test('LocalCache lru evicts the least recently used key and reports it', async (t) => {
  const removed: [string, RemovalReason][] = [];
  const c = new LocalCache({ maxEntries: 3, eviction: 'lru', onRemove: (k, _v, r) => removed.push([k, r]) });
  c.set('a', 1);
  c.set('b', 2);
  c.set('c', 3);
  c.get('a');
  c.set('d', 4);
  t.same(removed, [['b', 'evicted']]);
  t.same(
    ['a', 'b', 'c', 'd'].map((k) => c.has(k)),
    [true, false, true, true],
  );
  t.equal(c.stats().evictions, 1);
});

t.test('LocalCache keeps the entry being written even when it alone fills the budget', async (t) => {
  const c = new LocalCache({ memory: 2000, eviction: 'lru' });
  for (let i = 0; i < 10; i++) c.set(`k${i}`, 'x'.repeat(100));
  c.set('big', 'x'.repeat(1850));
  t.equal(c.get('big'), 'x'.repeat(1850));
  t.equal(c.size, 1);
  c.hset('big2', 'f', 'x'.repeat(1000));
  t.equal(c.has('big2'), true, 'a growing hash evicts others, not itself');
});

for (const eviction of ['lru', 'lfu', 'tinylfu'] as const) {
  t.test(`LocalCache ${eviction} never exceeds maxEntries under a random mixed load`, async (t) => {
    const c = new LocalCache({ maxEntries: 500, eviction });
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let i = 0; i < 50_000; i++) {
      const key = `k${Math.floor(rand() * rand() * 5000)}`;
      const r = rand();
      if (r < 0.6) c.get(key);
      else if (r < 0.9) c.set(key, i);
      else c.delete(key);
      if (c.size > 500) t.fail(`size ${c.size} at step ${i}`);
    }
    t.ok(c.size <= 500);
    t.ok(c.stats().evictions > 0);
  });
}

t.test('LocalCache lfu keeps frequently read keys over recently written ones', async (t) => {
  const c = new LocalCache({ maxEntries: 100, eviction: 'lfu' });
  for (let i = 0; i < 50; i++) c.set(`hot${i}`, i);
  for (let round = 0; round < 5; round++) for (let i = 0; i < 50; i++) c.get(`hot${i}`);
  for (let i = 0; i < 1000; i++) c.set(`cold${i}`, i);
  let kept = 0;
  for (let i = 0; i < 50; i++) if (c.has(`hot${i}`)) kept++;
  t.equal(kept, 50, 'every hot key survived the flood of one-time keys');
});

t.test('LocalCache tinylfu resists a one-pass scan that flushes lru', async (t) => {
  const run = (eviction: 'lru' | 'tinylfu') => {
    const c = new LocalCache({ maxEntries: 1000, eviction });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) if (c.get(`hot${i}`) === undefined) c.set(`hot${i}`, i);
    }
    for (let i = 0; i < 20_000; i++) if (c.get(`scan${i}`) === undefined) c.set(`scan${i}`, i);
    let kept = 0;
    for (let i = 0; i < 500; i++) if (c.has(`hot${i}`)) kept++;
    return kept;
  };
  const lru = run('lru');
  const tiny = run('tinylfu');
  t.equal(lru, 0, 'lru lost the whole hot set');
  t.ok(tiny >= 450, `tinylfu kept ${tiny} of 500 hot keys`);
});
