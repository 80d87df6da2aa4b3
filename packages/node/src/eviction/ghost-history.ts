/**
 * Remembers which side of a cache recently evicted a key hash, so a later miss
 * on that key can tell the cache "a bigger window" or "a bigger main space"
 * would have turned it into a hit (ARC's ghost lists, without the lists). A
 * fixed set-associative table of hashes: O(1), no allocation, no deletes.
 */

const WAYS = 4;
const WAY_SHIFT = 2;

/** Where an evicted entry was when it lost its place. */
export type GhostOrigin = 0 | 1;

/**
 * Recently evicted key hashes, each tagged with a {@link GhostOrigin}. A bucket
 * of four ways per hash; a full bucket forgets its oldest way. Hash collisions
 * and forgotten entries only blur the signal, they never break the cache.
 */
export class GhostHistory {
  private tags: Uint32Array; // key hash with bit 0 replaced by the origin
  private stamps: Uint32Array; // eviction number when remembered; 0 = empty way
  private bucketMask: number; // buckets - 1; buckets is a power of two
  // One eviction counter per origin (wrapping at 2^32, skipping 0): a ghost's age counts
  // evictions from its own side only, so "within the last n" means "n more entries on that side would have kept it".
  private readonly clocks = new Uint32Array(2);

  /** @param capacity how many recent evictions to remember (rounded up to a power of two, at least 16). */
  constructor(capacity: number) {
    const ways = waysFor(capacity);
    this.tags = new Uint32Array(ways);
    this.stamps = new Uint32Array(ways);
    this.bucketMask = (ways >>> WAY_SHIFT) - 1;
  }

  /** Grows the table; what it remembered is dropped (it is a hint, and growth is rare). */
  ensureCapacity(capacity: number): void {
    const ways = waysFor(capacity);
    if (ways <= this.tags.length) return;
    this.tags = new Uint32Array(ways);
    this.stamps = new Uint32Array(ways);
    this.bucketMask = (ways >>> WAY_SHIFT) - 1;
  }

  /** Records that the entry with `hash` was just evicted from `origin`. */
  add(hash: number, origin: GhostOrigin): void {
    const now = ((this.clocks[origin] as number) + 1) >>> 0 || 1;
    this.clocks[origin] = now;
    const start = bucketOf(hash, this.bucketMask);
    let way = start;
    let oldestAge = -1;
    for (let w = start; w < start + WAYS; w++) {
      const stamp = this.stamps[w] as number;
      if (stamp === 0 || (this.tags[w] as number) >>> 1 === hash >>> 1) {
        way = w;
        break;
      }
      const age = ((this.clocks[(this.tags[w] as number) & 1] as number) - stamp) >>> 0;
      if (age > oldestAge) {
        oldestAge = age;
        way = w;
      }
    }
    this.tags[way] = ((hash & ~1) | origin) >>> 0;
    this.stamps[way] = now;
  }

  /**
   * If `hash` was evicted within the last `horizon` evictions, forgets it and
   * returns its origin; otherwise returns -1.
   */
  take(hash: number, horizon: number): GhostOrigin | -1 {
    const start = bucketOf(hash, this.bucketMask);
    for (let w = start; w < start + WAYS; w++) {
      const stamp = this.stamps[w] as number;
      if (stamp === 0 || (this.tags[w] as number) >>> 1 !== hash >>> 1) continue;
      this.stamps[w] = 0;
      const origin = ((this.tags[w] as number) & 1) as GhostOrigin;
      return ((this.clocks[origin] as number) - stamp) >>> 0 < horizon ? origin : -1;
    }
    return -1;
  }

  /** Forgets everything. */
  clear(): void {
    this.stamps.fill(0);
  }
}

function waysFor(capacity: number): number {
  const entries = Number.isFinite(capacity) && capacity > 16 ? capacity : 16;
  return 2 ** Math.ceil(Math.log2(entries));
}

function bucketOf(hash: number, bucketMask: number): number {
  // A multiplicative mix, different from the sketch's, so sketch and ghost collisions are unrelated.
  const h = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  return ((h ^ (h >>> 12)) & bucketMask) << WAY_SHIFT;
}
