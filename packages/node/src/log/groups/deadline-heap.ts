/**
 * Binary min-heap of items ordered by a deadline (`at`, then `offset`), each
 * item remembering its own position so that removal and re-keying (a lease
 * extension, an ack) are O(log n) instead of a scan or a lazy tombstone.
 */

/** What the heap orders. `heapIndex` is owned by the heap: −1 when the item is in no heap. */
export interface DeadlineItem {
  /** The deadline, ms. */
  at: number;
  /** Tiebreak: lower offsets first. */
  offset: number;
  heapIndex: number;
}

/** A min-heap of DeadlineItems (an item is in at most one heap at a time). */
export class DeadlineHeap<T extends DeadlineItem> {
  private readonly items: T[] = []; // heap order: items[i] <= items[2i+1], items[2i+2]

  /** Number of items. */
  get size(): number {
    return this.items.length;
  }

  /** The item with the earliest deadline, or undefined. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an item that is in no heap. */
  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` (no-op when it is not in this heap). */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  /** Restores order after `item.at` changed. */
  update(item: T): void {
    this.up(item.heapIndex);
    this.down(item.heapIndex);
  }

  /** Removes everything. */
  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private less(a: T, b: T): boolean {
    return a.at < b.at || (a.at === b.at && a.offset < b.offset);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    b.heapIndex = i;
    a.heapIndex = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.items[i]!, this.items[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(this.items[right]!, this.items[left]!) ? right : left;
      if (!this.less(this.items[child]!, this.items[i]!)) return;
      this.swap(i, child);
      i = child;
    }
  }
}
