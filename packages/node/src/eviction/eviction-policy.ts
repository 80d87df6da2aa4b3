/**
 * The contract between the store and an eviction policy. The store owns entry
 * slots (small integers, reused through a free list); a policy only orders
 * slots, so every policy works with typed arrays indexed by slot and allocates
 * nothing per operation. One file per policy implements this interface.
 */

/** Names accepted by the `eviction` option. */
export type EvictionPolicyName = 'lru' | 'lfu' | 'tinylfu';

/**
 * Orders the store's slots and picks which one to evict.
 *
 * Call protocol (the store guarantees it): `resize` before any slot at or above
 * the previous capacity is used; `insert` once when a slot starts holding an
 * entry; `touch` on every hit or overwrite of a live slot; `remove` once when a
 * slot stops holding an entry for any reason (delete, expiry, eviction);
 * `victim` only while the store is over its bound.
 */
export interface EvictionPolicy {
  readonly name: EvictionPolicyName;
  /** True when `insert` and `recordMiss` need the key's 32-bit hash (the store skips hashing otherwise). */
  readonly usesKeyHash: boolean;
  /** Grows the per-slot arrays to hold slots `0 .. capacity - 1`; existing order is kept. */
  resize(capacity: number): void;
  /** A new entry now lives in `slot`; `keyHash` is its key's 32-bit hash (0 when `usesKeyHash` is false). */
  insert(slot: number, keyHash: number): void;
  /** The entry in `slot` was read or overwritten. */
  touch(slot: number): void;
  /** The entry in `slot` left the cache; the slot may be reused by a later `insert`. */
  remove(slot: number): void;
  /** A read missed a key with this hash (frequency-based policies count misses too). */
  recordMiss(keyHash: number): void;
  /**
   * The slot to evict next. Never returns `protect` (the entry just written)
   * while any other entry exists; returns -1 when no other entry exists.
   * Does not remove the slot: the store calls `remove` after evicting it.
   */
  victim(protect: number): number;
  /** Forgets every entry (slots are all free afterwards). */
  clear(): void;
}

/** Sentinel for "no slot" in linked lists of slots. */
export const NO_SLOT = 0xffffffff;
