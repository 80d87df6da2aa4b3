/**
 * Least-recently-used order as a doubly linked list threaded through two
 * typed arrays indexed by slot, so a hit is four array writes and no allocation.
 */
import { type EvictionPolicy, NO_SLOT } from './eviction-policy.js';

/** Evicts the entry read or written longest ago. */
export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru' as const;
  readonly usesKeyHash = false;
  private prev: Uint32Array;
  private next: Uint32Array;
  private head = NO_SLOT; // least recently used
  private tail = NO_SLOT; // most recently used

  constructor(capacity = 0) {
    this.prev = new Uint32Array(capacity);
    this.next = new Uint32Array(capacity);
  }

  resize(capacity: number): void {
    if (capacity <= this.prev.length) return;
    const prev = new Uint32Array(capacity);
    const next = new Uint32Array(capacity);
    prev.set(this.prev);
    next.set(this.next);
    this.prev = prev;
    this.next = next;
  }

  insert(slot: number, _keyHash: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NO_SLOT;
    if (this.tail === NO_SLOT) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }

  touch(slot: number): void {
    if (slot === this.tail) return;
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    // slot is not the tail, so next is a real slot
    this.prev[next] = prev;
    if (prev === NO_SLOT) this.head = next;
    else this.next[prev] = next;
    this.prev[slot] = this.tail;
    this.next[slot] = NO_SLOT;
    this.next[this.tail] = slot;
    this.tail = slot;
  }

  remove(slot: number): void {
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    if (prev === NO_SLOT) this.head = next;
    else this.next[prev] = next;
    if (next === NO_SLOT) this.tail = prev;
    else this.prev[next] = prev;
  }

  recordMiss(_keyHash: number): void {}

  victim(protect: number): number {
    const head = this.head;
    if (head !== protect) return head === NO_SLOT ? -1 : head;
    const second = this.next[head] as number;
    return second === NO_SLOT ? -1 : second;
  }

  clear(): void {
    this.head = NO_SLOT;
    this.tail = NO_SLOT;
  }
}
