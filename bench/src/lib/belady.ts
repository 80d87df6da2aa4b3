/**
 * Belady's optimal (clairvoyant) cache: on a miss with a full cache, evict the
 * entry whose next use is furthest in the future. With `bypass` (the default)
 * the missed key itself is a candidate, so it is not admitted when it is needed
 * later than everything cached: that is the true upper bound for any policy,
 * including admission-filtered ones like TinyLFU, which may decline to admit.
 *
 * O(n log n): next-use positions in one backward pass, then a max-heap of next
 * uses with lazy deletion (an entry is live while it matches `cachedNext`).
 */

/** Hits and gets of a read-through simulation (every miss is followed by a set). */
export interface HitCount {
  readonly hits: number;
  readonly gets: number;
}

/**
 * For each position i, the next position holding the same key, or
 * `trace.length + key` when the key is never accessed again (unique per key,
 * and larger than any real position, so "never" sorts as furthest).
 */
export function nextUses(trace: Uint32Array, keySpace: number): Int32Array {
  const n = trace.length;
  if (n + keySpace > 0x7fffffff) throw new RangeError('belady: trace length + key space must fit in 31 bits');
  const next = new Int32Array(n);
  const lastSeen = new Int32Array(keySpace).fill(-1);
  for (let i = n - 1; i >= 0; i--) {
    const key = trace[i] as number;
    if (key >= keySpace) throw new RangeError(`belady: key ${key} at ${i} is outside the key space ${keySpace}`);
    const seen = lastSeen[key] as number;
    next[i] = seen === -1 ? n + key : seen;
    lastSeen[key] = i;
  }
  return next;
}

/** Hit count of the optimal policy with room for `capacity` keys. */
export function beladyHits(trace: Uint32Array, keySpace: number, capacity: number, bypass = true): HitCount {
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('belady: capacity must be >= 1');
  const n = trace.length;
  const next = nextUses(trace, keySpace);
  const cachedNext = new Int32Array(keySpace).fill(-1); // -1: not cached; else its heap value
  const heap = new MaxHeap(n + 1);
  let size = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const key = trace[i] as number;
    const nu = next[i] as number;
    if (cachedNext[key] !== -1) {
      hits++;
      cachedNext[key] = nu; // the old heap value i is now stale
      heap.push(nu);
      continue;
    }
    if (size >= capacity) {
      const victim = heap.popWhile((v) => cachedNext[v < n ? (trace[v] as number) : v - n] !== v);
      if (bypass && victim <= nu) continue; // the missed key is needed last: do not admit it
      heap.pop();
      cachedNext[victim < n ? (trace[victim] as number) : victim - n] = -1;
      size--;
    }
    cachedNext[key] = nu;
    heap.push(nu);
    size++;
  }
  return { hits, gets: n };
}

/** Binary max-heap of non-negative int32 values in a preallocated array. */
class MaxHeap {
  private readonly items: Int32Array;
  private size = 0;

  constructor(capacity: number) {
    this.items = new Int32Array(capacity);
  }

  push(value: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as number;
      if (p >= value) break;
      items[i] = p;
      i = parent;
    }
    items[i] = value;
  }

  /** Pops while `stale(top)` holds, then returns the top without removing it (-1 when empty). */
  popWhile(stale: (value: number) => boolean): number {
    while (this.size > 0 && stale(this.items[0] as number)) this.pop();
    return this.size > 0 ? (this.items[0] as number) : -1;
  }

  pop(): number {
    const items = this.items;
    const top = items[0] as number;
    const last = items[--this.size] as number;
    let i = 0;
    const size = this.size;
    while (true) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && (items[r] as number) > (items[l] as number) ? r : l;
      if ((items[c] as number) <= last) break;
      items[i] = items[c] as number;
      i = c;
    }
    if (size > 0) items[i] = last;
    return top;
  }
}
