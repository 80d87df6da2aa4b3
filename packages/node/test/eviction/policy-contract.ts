/**
 * The contract every eviction policy meets, as a reusable suite: the store's
 * call protocol (resize, insert, touch, remove, recordMiss, victim, clear)
 * driven directly, plus a seeded random model check against a set of live slots.
 * Run it for a new policy with `policyContract(t, (capacity) => new MyPolicy(capacity))`.
 */
import type { Test } from 'tap';
import type { EvictionPolicy } from '../../src/eviction/eviction-policy.js';
import { hashKey } from '../../src/eviction/key-hash.js';
import { seededRandom } from './sim-cache.js';

/** Builds a policy for a store of `capacity` entries (its capacity hint, whatever the policy does with it). */
export type PolicyFactory = (capacity: number) => EvictionPolicy;

const NO_PROTECT = -1;

function hashOf(slot: number): number {
  return hashKey(`slot:${slot}`);
}

function insertAll(policy: EvictionPolicy, slots: number[]): void {
  for (const slot of slots) policy.insert(slot, policy.usesKeyHash ? hashOf(slot) : 0);
}

/** Evicts until the policy has nothing left, the way a store would: victim, then remove. */
function drain(policy: EvictionPolicy, limit = 100_000): number[] {
  const order: number[] = [];
  for (let v = policy.victim(NO_PROTECT); v !== -1; v = policy.victim(NO_PROTECT)) {
    order.push(v);
    policy.remove(v);
    if (order.length > limit) throw new Error('drain does not terminate');
  }
  return order;
}

function sorted(slots: Iterable<number>): number[] {
  return [...slots].sort((a, b) => a - b);
}

/** Registers the contract's subtests on `t` for policies built by `make`. */
export async function policyContract(t: Test, make: PolicyFactory): Promise<void> {
  // The class name, so failures read like the other tests: unit, action, scenario.
  const name = make(1).constructor.name;

  await t.test(`${name} victim never returns the protected slot and is -1 when nothing else exists`, async (t) => {
    const policy = make(4);
    policy.resize(4);
    t.equal(policy.victim(0), -1, 'empty');
    t.equal(policy.victim(NO_PROTECT), -1, 'empty, nothing protected');
    insertAll(policy, [0]);
    t.equal(policy.victim(0), -1, 'only the protected slot');
    t.equal(policy.victim(NO_PROTECT), 0, 'one unprotected slot');
    insertAll(policy, [1]);
    t.equal(policy.victim(1), 0);
    t.equal(policy.victim(0), 1);
    policy.touch(0);
    policy.touch(1);
    t.equal(policy.victim(1), 0);
    t.equal(policy.victim(0), 1);
  });

  await t.test(`${name} evicts every inserted slot exactly once when evicting repeatedly`, async (t) => {
    const policy = make(50);
    policy.resize(50);
    const slots = Array.from({ length: 50 }, (_, i) => i);
    insertAll(policy, slots);
    for (let i = 0; i < 200; i++) policy.touch((i * 7) % 50);
    const order = drain(policy);
    t.equal(order.length, 50);
    t.same(sorted(order), slots);
  });

  await t.test(
    `${name} remove of the oldest, newest and a middle slot leaves exactly the rest evictable`,
    async (t) => {
      const policy = make(8);
      policy.resize(8);
      insertAll(policy, [0, 1, 2, 3, 4, 5, 6, 7]);
      const first = policy.victim(NO_PROTECT);
      policy.remove(first);
      policy.remove(7);
      policy.remove(first === 3 ? 4 : 3);
      const removed = new Set([first, 7, first === 3 ? 4 : 3]);
      const rest = [0, 1, 2, 3, 4, 5, 6, 7].filter((s) => !removed.has(s));
      for (const slot of rest) policy.touch(slot);
      const order = drain(policy);
      t.same(sorted(order), rest);
    },
  );

  await t.test(`${name} resize keeps the eviction order`, async (t) => {
    const grown = make(4);
    const fixed = make(4);
    fixed.resize(64);
    grown.resize(4);
    const ops = (policy: EvictionPolicy, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        insertAll(policy, [s]);
        policy.touch(s % 3 === 0 ? s : Math.floor(s / 2));
      }
    };
    ops(grown, 0, 4);
    ops(fixed, 0, 4);
    grown.resize(64);
    ops(grown, 4, 40);
    ops(fixed, 4, 40);
    t.same(drain(grown), drain(fixed));
  });

  await t.test(`${name} clear forgets every slot and the slots can be used again`, async (t) => {
    const policy = make(10);
    policy.resize(10);
    insertAll(policy, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    policy.touch(3);
    policy.clear();
    t.equal(policy.victim(NO_PROTECT), -1);
    insertAll(policy, [4, 2, 9]);
    t.same(sorted(drain(policy)), [2, 4, 9]);
  });

  await t.test(`${name} reuses a removed slot for a new entry`, async (t) => {
    const policy = make(3);
    policy.resize(3);
    insertAll(policy, [0, 1, 2]);
    policy.touch(1);
    policy.remove(1);
    insertAll(policy, [1]);
    policy.touch(0);
    t.same(sorted(drain(policy)), [0, 1, 2]);
  });

  for (const capacity of [1, 3, 40]) {
    await t.test(`${name} random operations agree with a model of live slots (capacity ${capacity})`, async (t) => {
      modelCheck(t, make, capacity, 0x5eed + capacity);
    });
  }
}

/**
 * Simulates a store: a set of live slots, a free-slot stack, growth by resize,
 * and random inserts (evicting while over capacity), touches, removes, misses
 * and the odd clear. Checks every victim, then that draining evicts exactly the live set.
 */
function modelCheck(t: Test, make: PolicyFactory, capacity: number, seed: number): void {
  const random = seededRandom(seed);
  const policy = make(capacity);
  const live = new Set<number>();
  const free: number[] = [];
  let fresh = 0;
  let allocated = 0;
  let failures = 0;
  const fail = (message: string) => {
    if (failures++ < 5) t.fail(message);
  };
  const pick = () => {
    const index = Math.floor(random() * live.size);
    let i = 0;
    for (const slot of live) if (i++ === index) return slot;
    throw new Error('unreachable');
  };
  for (let step = 0; step < 6000; step++) {
    const r = random();
    if (r < 0.45 || live.size === 0) {
      let slot = free.pop();
      if (slot === undefined) {
        if (fresh === allocated) {
          allocated = Math.max(2, allocated * 2);
          policy.resize(allocated);
        }
        slot = fresh++;
      }
      live.add(slot);
      policy.insert(slot, policy.usesKeyHash ? hashKey(`k${Math.floor(random() * 500)}`) : 0);
      while (live.size > capacity) {
        const victim = policy.victim(slot);
        if (victim === slot) fail(`step ${step}: victim is the protected slot ${slot}`);
        if (!live.has(victim)) {
          fail(`step ${step}: victim ${victim} is not live`);
          break;
        }
        live.delete(victim);
        policy.remove(victim);
        free.push(victim);
      }
    } else if (r < 0.8) {
      policy.touch(pick());
    } else if (r < 0.9) {
      const slot = pick();
      live.delete(slot);
      policy.remove(slot);
      free.push(slot);
    } else if (r < 0.995) {
      policy.recordMiss(policy.usesKeyHash ? hashKey(`k${Math.floor(random() * 500)}`) : 0);
    } else {
      policy.clear();
      for (const slot of live) free.push(slot);
      live.clear();
    }
    if (step % 97 === 0 && live.size > 0) {
      const victim = policy.victim(NO_PROTECT);
      if (!live.has(victim)) fail(`step ${step}: unprotected victim ${victim} is not live`);
    }
  }
  const order = drain(policy);
  t.equal(failures, 0, 'every victim was live and never the protected slot');
  t.equal(order.length, live.size, 'draining evicts as many slots as are live');
  t.same(sorted(order), sorted(live), 'draining evicts exactly the live slots');
}
