/**
 * What each member holds during a bounded assignment: per member, a min-heap of
 * (score, partition) limited to that member's cap, all in flat typed arrays. A
 * full member that is offered a better partition displaces its weakest one, which
 * is what makes the assignment stable; offers allocate nothing.
 */

/** `offer` result: the member took the partition into free room. */
export const OFFER_ACCEPTED = -1;
/** `offer` result: the member is full of partitions it prefers. */
export const OFFER_REJECTED = -2;

/** Bounded min-heaps on score, one per member, over slots [start[i], start[i] + size[i]). */
export class MemberHeaps {
  private readonly caps: Int32Array;
  private readonly start: Int32Array;
  private readonly sizes: Int32Array;
  private readonly scores: Float64Array;
  private readonly partitions: Int32Array;

  /** @param caps most partitions each member may hold (index = member). */
  constructor(caps: ArrayLike<number>) {
    const n = caps.length;
    this.caps = Int32Array.from(caps);
    this.start = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) this.start[i + 1] = this.start[i]! + this.caps[i]!;
    this.sizes = new Int32Array(n);
    this.scores = new Float64Array(this.start[n]!);
    this.partitions = new Int32Array(this.start[n]!);
  }

  /**
   * Offers `partition` with `score` to `member`. Returns OFFER_ACCEPTED, OFFER_REJECTED,
   * or the partition displaced to make room. A member's scores never tie (its ranks
   * are a permutation of the partitions), so "better" is always strict.
   */
  offer(member: number, partition: number, score: number): number {
    const base = this.start[member]!;
    const size = this.sizes[member]!;
    if (size < this.caps[member]!) {
      this.sizes[member] = size + 1;
      this.siftUp(base, size, score, partition);
      return OFFER_ACCEPTED;
    }
    if (size === 0 || this.scores[base]! >= score) return OFFER_REJECTED;
    const displaced = this.partitions[base]!;
    this.replaceMin(base, size, score, partition);
    return displaced;
  }

  /** Number of partitions `member` holds. */
  size(member: number): number {
    return this.sizes[member]!;
  }

  /** The `j`-th held partition of `member` (heap order, not sorted). */
  partitionAt(member: number, j: number): number {
    return this.partitions[this.start[member]! + j]!;
  }

  /** Score of the `j`-th held partition of `member`. */
  scoreAt(member: number, j: number): number {
    return this.scores[this.start[member]! + j]!;
  }

  private siftUp(base: number, at: number, score: number, partition: number): void {
    const { scores, partitions } = this;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (scores[base + parent]! <= score) break;
      scores[base + at] = scores[base + parent]!;
      partitions[base + at] = partitions[base + parent]!;
      at = parent;
    }
    scores[base + at] = score;
    partitions[base + at] = partition;
  }

  private replaceMin(base: number, size: number, score: number, partition: number): void {
    const { scores, partitions } = this;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && scores[base + child + 1]! < scores[base + child]!) child++;
      if (scores[base + child]! >= score) break;
      scores[base + at] = scores[base + child]!;
      partitions[base + at] = partitions[base + child]!;
      at = child;
    }
    scores[base + at] = score;
    partitions[base + at] = partition;
  }
}
