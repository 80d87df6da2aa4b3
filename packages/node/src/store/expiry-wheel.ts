/**
 * Hashed timing wheel of expiry deadlines, so expired entries are found and
 * freed without a reader touching them and without scanning the whole store.
 * Scheduling and cancelling are O(1) (a doubly linked list per bucket through
 * typed arrays indexed by slot); a sweep examines at most `maxWork` slots.
 *
 *   bucket = floor(deadline / resolutionMs) mod buckets
 *   [0] -> s7 -> s2        deadlines of several revolutions share a bucket;
 *   [1] -> (empty)         a sweep frees only slots whose deadline has passed
 *   [2] -> s9              and leaves the others for a later revolution.
 */
import { NO_SLOT } from '../eviction/eviction-policy.js';

/** Schedules slot deadlines and finds the expired ones in bounded steps. */
export class ExpiryWheel {
  /** Deadline per slot in wall ms; 0 means no deadline. */
  expiresAt: Float64Array;
  private prev: Uint32Array;
  private next: Uint32Array;
  private readonly heads: Uint32Array;
  private readonly tails: Uint32Array;
  private readonly mask: number;
  /** Next tick (deadline / resolution) the sweep has not finished. */
  private cursorTick = -1;
  /** Slot the interrupted sweep resumes at in the cursor's bucket, or NO_SLOT to start at its head. */
  private resumeAt = NO_SLOT;
  /** Number of slots with a deadline. */
  size = 0;

  /**
   * @param capacity initial slot capacity (grown with `resize`)
   * @param resolutionMs width of a bucket in ms: expired entries are freed up to this late
   * @param buckets bucket count, a power of two; one revolution is buckets * resolutionMs
   */
  constructor(
    capacity: number,
    private readonly resolutionMs = 50,
    buckets = 4096,
  ) {
    if ((buckets & (buckets - 1)) !== 0) throw new RangeError('buckets must be a power of two');
    this.expiresAt = new Float64Array(capacity);
    this.prev = new Uint32Array(capacity);
    this.next = new Uint32Array(capacity);
    this.heads = new Uint32Array(buckets).fill(NO_SLOT);
    this.tails = new Uint32Array(buckets).fill(NO_SLOT);
    this.mask = buckets - 1;
  }

  resize(capacity: number): void {
    if (capacity <= this.expiresAt.length) return;
    const expiresAt = new Float64Array(capacity);
    const prev = new Uint32Array(capacity);
    const next = new Uint32Array(capacity);
    expiresAt.set(this.expiresAt);
    prev.set(this.prev);
    next.set(this.next);
    this.expiresAt = expiresAt;
    this.prev = prev;
    this.next = next;
  }

  /** Sets (or moves) the deadline of `slot` to `at` wall ms (> 0). */
  schedule(slot: number, at: number): void {
    if (this.expiresAt[slot] !== 0) this.unlink(slot);
    else this.size++;
    this.expiresAt[slot] = at;
    const tick = Math.floor(at / this.resolutionMs);
    if (this.cursorTick < 0 || tick < this.cursorTick) {
      this.cursorTick = tick;
      this.resumeAt = NO_SLOT;
    }
    const bucket = tick & this.mask;
    // appended at the tail so an interrupted sweep of this bucket still reaches it
    const tail = this.tails[bucket] as number;
    this.prev[slot] = tail;
    this.next[slot] = NO_SLOT;
    if (tail === NO_SLOT) this.heads[bucket] = slot;
    else this.next[tail] = slot;
    this.tails[bucket] = slot;
  }

  /** Removes the deadline of `slot`, if it has one. */
  cancel(slot: number): void {
    if (this.expiresAt[slot] === 0) return;
    this.unlink(slot);
    this.expiresAt[slot] = 0;
    this.size--;
  }

  private unlink(slot: number): void {
    const bucket = Math.floor((this.expiresAt[slot] as number) / this.resolutionMs) & this.mask;
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    if (slot === this.resumeAt) this.resumeAt = next;
    if (prev === NO_SLOT) this.heads[bucket] = next;
    else this.next[prev] = next;
    if (next === NO_SLOT) this.tails[bucket] = prev;
    else this.prev[next] = prev;
  }

  /**
   * Calls `expire(slot)` for slots whose deadline is <= `now`, examining at most
   * `maxWork` slots. `expire` must cancel the slot (the store removes the entry).
   * Returns the number of slots expired; call again to continue after the bound.
   */
  sweep(now: number, maxWork: number, expire: (slot: number) => void): number {
    if (this.size === 0) {
      this.cursorTick = -1;
      return 0;
    }
    const nowTick = Math.floor(now / this.resolutionMs);
    // after a long pause one revolution visits every bucket once
    if (nowTick - this.cursorTick > this.mask) this.cursorTick = nowTick - this.mask;
    let work = 0;
    let expired = 0;
    while (this.cursorTick <= nowTick) {
      const bucket = this.cursorTick & this.mask;
      let slot = this.resumeAt === NO_SLOT ? (this.heads[bucket] as number) : this.resumeAt;
      while (slot !== NO_SLOT) {
        if (work++ >= maxWork) {
          this.resumeAt = slot;
          return expired;
        }
        if ((this.expiresAt[slot] as number) <= now) {
          this.resumeAt = this.next[slot] as number;
          // expire() may remove other slots; unlink() keeps resumeAt pointing at a live one
          expire(slot);
          expired++;
          slot = this.resumeAt;
        } else {
          slot = this.next[slot] as number;
        }
      }
      this.resumeAt = NO_SLOT;
      // the current tick may still gain deadlines later in this millisecond window
      if (this.cursorTick === nowTick) break;
      this.cursorTick++;
    }
    return expired;
  }

  /** Forgets every deadline. */
  clear(): void {
    this.expiresAt.fill(0);
    this.heads.fill(NO_SLOT);
    this.tails.fill(NO_SLOT);
    this.size = 0;
    this.cursorTick = -1;
    this.resumeAt = NO_SLOT;
  }
}
