import t from 'tap';
import { beladyHits, nextUses } from '../src/lib/belady.js';
import { generateTrace } from '../src/lib/traces.js';

t.test('Belady nextUses points at the next access, or past the end for the last one', async (t) => {
  // keys 0 1 0 2 (n = 4): never-again encodes as n + key
  t.same([...nextUses(Uint32Array.from([0, 1, 0, 2]), 3)], [2, 5, 4, 6]);
});

t.test('Belady without bypass gives the textbook 9 faults on the Silberschatz reference string', async (t) => {
  // 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1 with 3 frames: OPT has 9 page faults (11 hits).
  const trace = Uint32Array.from([7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1]);
  t.same(beladyHits(trace, 8, 3, false), { hits: 11, gets: 20 });
});

t.test('Belady with bypass declines a key needed later than everything cached', async (t) => {
  // A B C A B D A B, capacity 2 (A=0 B=1 C=2 D=3).
  const trace = Uint32Array.from([0, 1, 2, 0, 1, 3, 0, 1]);
  // Bypass: C and D are never reused, so A and B stay: hits at 3, 4, 6, 7.
  t.same(beladyHits(trace, 4, 2), { hits: 4, gets: 8 });
  // Demand paging must admit C (evicts B, used last), then B (evicts C), then D (evicts B): hits at 3 and 6.
  t.same(beladyHits(trace, 4, 2, false), { hits: 2, gets: 8 });
});

t.test('Belady is an upper bound for LRU and everything fits when capacity covers the key space', async (t) => {
  const trace = generateTrace({ kind: 'zipf', keySpace: 300, length: 20_000, seed: 11, s: 0.9 });
  for (const capacity of [1, 10, 50]) {
    const lru = new Map<number, true>();
    let lruHits = 0;
    for (const key of trace) {
      if (lru.delete(key)) lruHits++;
      else if (lru.size >= capacity) lru.delete(lru.keys().next().value as number);
      lru.set(key, true);
    }
    const opt = beladyHits(trace, 300, capacity);
    const demand = beladyHits(trace, 300, capacity, false);
    t.ok(demand.hits >= lruHits, `capacity ${capacity}: OPT ${demand.hits} >= LRU ${lruHits}`);
    t.ok(opt.hits >= demand.hits, `capacity ${capacity}: bypass ${opt.hits} >= demand ${demand.hits}`);
  }
  const distinct = new Set(trace).size;
  t.equal(beladyHits(trace, 300, 300).hits, trace.length - distinct, 'only compulsory misses');
});

t.test('Belady rejects keys outside the key space and a zero capacity', async (t) => {
  t.throws(() => beladyHits(Uint32Array.from([5]), 3, 1), RangeError);
  t.throws(() => beladyHits(Uint32Array.from([0]), 3, 0), RangeError);
});
