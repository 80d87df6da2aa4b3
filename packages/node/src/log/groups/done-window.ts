/**
 * The offsets acked (or dead-lettered) above the committed offset, as a
 * bitmap ring indexed by `offset mod capacity`: one bit per offset, O(1) to
 * mark and test, no allocation. Valid while every marked offset lies in a
 * window of at most `capacity` offsets, which the caller guarantees
 * (read cursor − committed offset ≤ maxUncommitted ≤ capacity).
 *
 *   committed ──────────────── read cursor
 *   bits:  0 1 1 0 1 1 1 0 0 ...   (bit of offset o at (o mod capacity))
 */

/** A window of done flags over offsets. */
export class DoneWindow {
  /** Number of offsets the window can span (a power of two ≥ the requested span). */
  readonly capacity: number;
  private readonly words: Uint32Array;
  private marked = 0;

  constructor(span: number) {
    let capacity = 32;
    while (capacity < span) capacity *= 2;
    this.capacity = capacity;
    this.words = new Uint32Array(capacity / 32);
  }

  /** Number of offsets marked. */
  get size(): number {
    return this.marked;
  }

  /** Whether `offset` is marked. */
  has(offset: number): boolean {
    const i = offset % this.capacity;
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Marks `offset`. */
  mark(offset: number): void {
    const i = offset % this.capacity;
    const bit = 1 << (i & 31);
    const word = this.words[i >>> 5]!;
    if ((word & bit) !== 0) return;
    this.words[i >>> 5] = word | bit;
    this.marked++;
  }

  /** Unmarks `offset`. */
  unmark(offset: number): void {
    const i = offset % this.capacity;
    const bit = 1 << (i & 31);
    const word = this.words[i >>> 5]!;
    if ((word & bit) === 0) return;
    this.words[i >>> 5] = word & ~bit;
    this.marked--;
  }

  /** Unmarks everything. */
  clear(): void {
    this.words.fill(0);
    this.marked = 0;
  }
}
