import type { Test } from 'tap';
import t from 'tap';
import { LfuPolicy } from '../../src/eviction/lfu-policy.js';
import { LruPolicy } from '../../src/eviction/lru-policy.js';
import { SimCache, seededRandom } from './sim-cache.js';

function drain(policy: LfuPolicy): number[] {
  const order: number[] = [];
  for (let v = policy.victim(-1); v !== -1; v = policy.victim(-1)) {
    order.push(v);
    policy.remove(v);
  }
  return order;
}

/**
 * The obvious O(n) version of the same policy: one array per level, aging by
 * concatenating arrays and halving every level eagerly. The real policy must
 * agree with it on every level and on the eviction order.
 */
class LfuModel {
  readonly lists: number[][] = Array.from({ length: 16 }, () => []);
  readonly level = new Map<number, number>();
  agings = 0;
  private untilAging: number;

  constructor(private readonly agingPeriod: number) {
    this.untilAging = agingPeriod;
  }

  insert(slot: number): void {
    this.lists[0]?.push(slot);
    this.level.set(slot, 0);
    this.tick();
  }

  touch(slot: number): void {
    const from = this.level.get(slot) as number;
    const to = Math.min(from + 1, 15);
    this.unlist(slot, from);
    this.lists[to]?.push(slot);
    this.level.set(slot, to);
    this.tick();
  }

  remove(slot: number): void {
    this.unlist(slot, this.level.get(slot) as number);
    this.level.delete(slot);
  }

  order(): number[] {
    return this.lists.flat();
  }

  private unlist(slot: number, level: number): void {
    const list = this.lists[level] as number[];
    list.splice(list.indexOf(slot), 1);
  }

  private tick(): void {
    if (--this.untilAging > 0) return;
    this.untilAging = this.agingPeriod;
    this.agings++;
    for (let k = 0; k < 16; k++) {
      this.lists[k] = k < 8 ? [...(this.lists[2 * k] as number[]), ...(this.lists[2 * k + 1] as number[])] : [];
    }
    for (const [slot, level] of this.level) this.level.set(slot, level >> 1);
  }
}

/** Runs random operations on the policy and the model side by side; returns the number of agings. */
function checkAgainstModel(t: Test, agingPeriod: number, steps: number, seed: number, epochLimit?: number): number {
  const random = seededRandom(seed);
  const policy = new LfuPolicy(32, { agingPeriod });
  // White box: rebase every few agings instead of every 65535, with levels still high.
  if (epochLimit !== undefined) (policy as unknown as { epochLimit: number }).epochLimit = epochLimit;
  const model = new LfuModel(agingPeriod);
  const free = Array.from({ length: 32 }, (_, i) => 31 - i);
  let mismatches = 0;
  for (let step = 0; step < steps; step++) {
    const live = [...model.level.keys()];
    const r = random();
    if ((r < 0.2 && free.length > 0) || live.length === 0) {
      const slot = free.pop() as number;
      policy.insert(slot, 0);
      model.insert(slot);
    } else if (r < 0.9) {
      // Skewed, so some slots climb high and others stay low.
      const slot = live[Math.floor(random() ** 2 * live.length)] as number;
      policy.touch(slot);
      model.touch(slot);
    } else {
      const slot = live[Math.floor(random() * live.length)] as number;
      policy.remove(slot);
      model.remove(slot);
      free.push(slot);
    }
    if (step % 50 === 0) {
      for (const [slot, level] of model.level) {
        if (policy.frequencyOf(slot) !== level && mismatches++ < 5) {
          t.fail(`step ${step}: slot ${slot} is at level ${policy.frequencyOf(slot)}, model says ${level}`);
        }
      }
      const expected = model.order()[0] ?? -1;
      if (policy.victim(-1) !== expected && mismatches++ < 5) t.fail(`step ${step}: victim differs from the model`);
    }
  }
  t.equal(mismatches, 0, 'levels and victims agree with the model throughout');
  t.same(drain(policy), model.order(), 'eviction order agrees with the model');
  return model.agings;
}

t.test('LfuPolicy evicts the least frequent entry, oldest first among equals', async (t) => {
  const policy = new LfuPolicy(5);
  for (let s = 0; s < 5; s++) policy.insert(s, 0);
  policy.touch(3);
  policy.touch(3);
  policy.touch(1);
  policy.touch(4);
  policy.touch(0);
  // level 0: 2; level 1: 1, 4, 0 (in touch order); level 2: 3
  t.same(drain(policy), [2, 1, 4, 0, 3]);
});

t.test('LfuPolicy saturates at level 15 and keeps LRU order there', async (t) => {
  const policy = new LfuPolicy(2, { agingPeriod: 1_000_000 });
  policy.insert(0, 0);
  policy.insert(1, 0);
  for (let i = 0; i < 40; i++) policy.touch(0);
  for (let i = 0; i < 40; i++) policy.touch(1);
  t.equal(policy.frequencyOf(0), 15);
  t.equal(policy.frequencyOf(1), 15);
  policy.touch(0);
  t.same(drain(policy), [1, 0]);
});

t.test('LfuPolicy keeps frequent keys over recent but rare ones', async (t) => {
  const lfu = new SimCache(new LfuPolicy(10), 10);
  const lru = new SimCache(new LruPolicy(10), 10);
  for (const cache of [lfu, lru]) {
    for (let round = 0; round < 10; round++) for (let key = 0; key < 5; key++) cache.access(key);
    for (let key = 1000; key < 1200; key++) cache.access(key);
  }
  t.same(
    [0, 1, 2, 3, 4].filter((key) => lfu.has(key)),
    [0, 1, 2, 3, 4],
    'LFU keeps the whole frequent set',
  );
  t.equal([0, 1, 2, 3, 4].filter((key) => lru.has(key)).length, 0, 'LRU lost it to the one-off keys');
});

t.test('LfuPolicy ages formerly hot keys out after the access pattern shifts', async (t) => {
  const run = (agingPeriod?: number) => {
    const policy = agingPeriod === undefined ? new LfuPolicy(8) : new LfuPolicy(8, { agingPeriod });
    const cache = new SimCache(policy, 8);
    for (let round = 0; round < 50; round++) for (let key = 0; key < 6; key++) cache.access(key);
    for (let round = 0; round < 100; round++) {
      // Measure the last 30 rounds only: four halvings (4 x 80 accesses) must pass first.
      if (round === 70) {
        cache.hits = 0;
        cache.misses = 0;
      }
      for (let key = 100; key < 106; key++) cache.access(key);
    }
    return cache;
  };
  const aging = run();
  t.same(
    [100, 101, 102, 103, 104, 105].filter((key) => aging.has(key)),
    [100, 101, 102, 103, 104, 105],
    'the currently hot keys are all cached',
  );
  t.ok([0, 1, 2, 3, 4, 5].filter((key) => aging.has(key)).length <= 2, 'the formerly hot keys were evicted');
  t.equal(aging.hitRatio, 1, 'the new pattern hits once the old one has decayed');
  const never = run(1_000_000_000);
  t.equal([0, 1, 2, 3, 4, 5].filter((key) => never.has(key)).length, 6, 'without aging the old keys stay');
  t.ok(never.hitRatio < 0.1, `and the new pattern keeps missing (hit ratio ${never.hitRatio.toFixed(2)})`);
});

t.test('LfuPolicy splice aging agrees with eager halving under random operations', async (t) => {
  checkAgainstModel(t, 13, 5000, 1);
  checkAgainstModel(t, 1, 3000, 2);
});

t.test('LfuPolicy keeps every level through frequent epoch rebases', async (t) => {
  checkAgainstModel(t, 5, 20_000, 4, 7);
});

t.test('LfuPolicy stays consistent across the epoch rebase after 65535 agings', async (t) => {
  const agings = checkAgainstModel(t, 1, 80_000, 3);
  t.ok(agings > 0xffff, `the run aged ${agings} times, past the 16-bit epoch`);
});

t.test('LfuPolicy rejects an aging period that is not a positive integer', async (t) => {
  for (const agingPeriod of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new LfuPolicy(10, { agingPeriod }), { code: 'SHOAL_CONFIG_INVALID', message: /^agingPeriod: / });
  }
});

t.test('LfuPolicy with an unknown capacity hint derives its aging period from resize', async (t) => {
  const policy = new LfuPolicy(Number.POSITIVE_INFINITY);
  const cache = new SimCache(policy, 8);
  for (let round = 0; round < 50; round++) for (let key = 0; key < 6; key++) cache.access(key);
  for (let round = 0; round < 200; round++) for (let key = 100; key < 106; key++) cache.access(key);
  t.equal([100, 101, 102, 103, 104, 105].filter((key) => cache.has(key)).length, 6);
});
