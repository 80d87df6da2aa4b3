/**
 * Growable ring buffer: the storage of list values. Push and pop at both ends
 * are O(1) amortised and index access is O(1), which LRANGE needs.
 */

/** A double-ended queue of values. */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0; // index of the first element
  length = 0;

  constructor(capacity = 8) {
    this.items = new Array(capacity);
  }

  private grow(): void {
    const items = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.length; i++) items[i] = this.items[(this.head + i) % this.items.length];
    this.items = items;
    this.head = 0;
  }

  pushBack(value: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) % this.items.length] = value;
    this.length++;
  }

  pushFront(value: T): void {
    if (this.length === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = value;
    this.length++;
  }

  popFront(): T | undefined {
    if (this.length === 0) return undefined;
    const value = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.length--;
    return value;
  }

  popBack(): T | undefined {
    if (this.length === 0) return undefined;
    const index = (this.head + this.length - 1) % this.items.length;
    const value = this.items[index];
    this.items[index] = undefined;
    this.length--;
    return value;
  }

  /** Element at `index` (0 = front); undefined outside 0..length-1. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.items[(this.head + index) % this.items.length];
  }

  /** Elements from `start` to `stop` inclusive, both already clamped to 0..length-1. */
  slice(start: number, stop: number): T[] {
    const out: T[] = [];
    for (let i = start; i <= stop; i++) out.push(this.items[(this.head + i) % this.items.length] as T);
    return out;
  }

  toArray(): T[] {
    return this.length === 0 ? [] : this.slice(0, this.length - 1);
  }
}
