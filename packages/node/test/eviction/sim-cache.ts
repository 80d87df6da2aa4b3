/**
 * A minimal store for driving eviction policies with key traces in tests: a Map
 * from key to slot, a free-slot stack, an entry bound, and the store's side of
 * the `EvictionPolicy` call protocol (resize before a fresh slot, insert, touch,
 * recordMiss, remove, and victim while over the bound). Plus the seeded random
 * sources the traces are made of, so every run sees the same keys.
 */
import type { EvictionPolicy } from '../../src/eviction/eviction-policy.js';
import { hashKey } from '../../src/eviction/key-hash.js';

/** Hashes integer keys the way the store hashes string keys. */
export function defaultKeyHash(key: number): number {
  return hashKey(`key:${key}`);
}

/** An entry-bounded cache of integer keys without values. */
export class SimCache {
  /** key -> slot, for live entries. */
  readonly slots = new Map<number, number>();
  hits = 0;
  misses = 0;
  evictions = 0;
  private readonly keyOfSlot: number[] = [];
  private readonly freeSlots: number[] = []; // stack of slots released by remove
  private nextFresh = 0; // slots at or above this were never used
  private allocated = 0; // slot capacity given to the policy so far

  constructor(
    readonly policy: EvictionPolicy,
    readonly capacity: number,
    private readonly keyHash: (key: number) => number = defaultKeyHash,
  ) {
    // Start small and double, so every run also exercises resize.
    this.grow(Math.min(capacity + 1, 8));
  }

  get size(): number {
    return this.slots.size;
  }

  get hitRatio(): number {
    return this.hits / Math.max(1, this.hits + this.misses);
  }

  has(key: number): boolean {
    return this.slots.has(key);
  }

  /** A read-through access: a hit touches, a miss is recorded and the key inserted. */
  access(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.hits++;
      this.policy.touch(slot);
      return true;
    }
    this.misses++;
    const hash = this.policy.usesKeyHash ? this.keyHash(key) : 0;
    this.policy.recordMiss(hash);
    this.insert(key, hash);
    return false;
  }

  /** A write: touches a live key, inserts a new one (evicting while over capacity). */
  set(key: number): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) this.policy.touch(slot);
    else this.insert(key, this.policy.usesKeyHash ? this.keyHash(key) : 0);
  }

  delete(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.release(key, slot);
    return true;
  }

  clear(): void {
    this.policy.clear();
    for (const slot of this.slots.values()) this.freeSlots.push(slot);
    this.slots.clear();
  }

  /** Keys currently cached, in no particular order. */
  keys(): number[] {
    return [...this.slots.keys()];
  }

  private insert(key: number, hash: number): void {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.nextFresh === this.allocated) this.grow(this.allocated * 2);
      slot = this.nextFresh++;
    }
    this.slots.set(key, slot);
    this.keyOfSlot[slot] = key;
    this.policy.insert(slot, hash);
    while (this.slots.size > this.capacity) {
      const victim = this.policy.victim(slot);
      if (victim < 0) throw new Error(`victim() found nothing with ${this.slots.size} entries`);
      if (victim === slot) throw new Error('victim() returned the protected slot');
      this.release(this.keyOfSlot[victim] as number, victim);
      this.evictions++;
    }
  }

  private release(key: number, slot: number): void {
    if (this.slots.get(key) !== slot) throw new Error(`slot ${slot} does not hold a live entry`);
    this.slots.delete(key);
    this.policy.remove(slot);
    this.freeSlots.push(slot);
  }

  private grow(capacity: number): void {
    this.policy.resize(capacity);
    this.allocated = capacity;
  }
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent. */
export function zipfSampler(n: number, exponent: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** exponent;
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] = (cdf[i] as number) / sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
