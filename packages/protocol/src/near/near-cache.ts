/**
 * A bounded in-process copy of values whose primary is another node. It only
 * stores what a reservation allows: a read takes a reservation before asking
 * the primary, any invalidation of the key (or of its partition, or of the
 * whole cache) cancels it, and the reply is kept only if its reservation is
 * still there. So a reply that raced with a write can never overwrite the
 * write's invalidation (Hazelcast's near cache closes the same race this way).
 * Every entry also expires at the primary's deadline or `maxTtlMs`, whichever
 * comes first, as a backstop for anything the stream could not say.
 *
 * Eviction is second-chance (CLOCK) over insertion order: a hit only sets a
 * flag, so the hit path never mutates the map.
 */
import { CoarseClock } from '../coarse-clock.js';

/** Settings of a near cache. */
export interface NearCacheOptions {
  /** Most entries held. */
  maxEntries: number;
  /** Longest an entry is kept, in ms, whatever the primary's TTL. */
  maxTtlMs: number;
  /** Wall clock, in ms. */
  now: () => number;
  /**
   * Read the clock at most once per 256 hits and once per event-loop turn on
   * the hit path. Clock reads cost 100-300 ns on some VMs, as much as the rest
   * of a hit; an entry may then be served up to one turn past its deadline
   * (deadlines are a backstop: invalidations do not depend on the clock).
   * Default false (tests drive `now` by hand).
   */
  coarseClock?: boolean;
}

interface NearEntry {
  /** As stored at the primary (a bare value or a ManagedValue). */
  stored: unknown;
  partition: number;
  /** Wall ms; never 0 (the TTL cap always applies). */
  expiresAt: number;
  referenced: boolean;
}

interface Reservation {
  token: number;
  partition: number;
}

/** Counters of a near cache. */
export interface NearCacheStats {
  hits: number;
  misses: number;
  entries: number;
  maxEntries: number;
  /** Keys dropped by an invalidation event or a local write. */
  invalidations: number;
  /** Whole partitions dropped (sequence gap, new primary, lost subscription). */
  partitionDrops: number;
  /** Whole-cache drops (an invalidation stream disconnected). */
  clears: number;
  evictions: number;
  /** Replies not kept because their reservation was cancelled meanwhile. */
  raced: number;
  hitRatio: number;
}

/** The store of a near cache, with reservations. */
export class NearCache {
  private readonly entries = new Map<string, NearEntry>();
  private readonly reservations = new Map<string, Reservation>();
  private nextToken = 1;
  private readonly counters = {
    misses: 0,
    invalidations: 0,
    partitionDrops: 0,
    clears: 0,
    evictions: 0,
    raced: 0,
  };
  /**
   * Told about every invalidation of a key: from the stream (with the write's
   * version) or from a local write (no version). Benchmarks time invalidations
   * with it; tests check what was served against it.
   */
  onInvalidate: ((key: string, version: number | undefined) => void) | undefined;

  private readonly coarse: CoarseClock | undefined;
  private hits = 0;

  constructor(readonly options: NearCacheOptions) {
    this.coarse = options.coarseClock === true ? new CoarseClock(options.now, 256) : undefined;
  }

  /** The stored form of `key` if held and not expired (counts a hit or a miss). */
  lookup(key: string): unknown {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      const coarse = this.coarse;
      if (entry.expiresAt > (coarse === undefined ? this.options.now() : coarse.now())) {
        entry.referenced = true;
        this.hits++; // a field of its own: the hit path touches no other object
        return entry.stored;
      }
      this.entries.delete(key);
    }
    this.counters.misses++;
    return undefined;
  }

  /** True when `key` is held (no hit counted, expiry not checked). */
  holds(key: string): boolean {
    return this.entries.has(key);
  }

  /** Takes a reservation for a read of `key` about to be sent to its primary. */
  reserve(key: string, partition: number): number {
    const token = this.nextToken++;
    this.reservations.set(key, { token, partition });
    return token;
  }

  /**
   * Keeps a primary's reply if the reservation `token` still holds. `expiresAt`
   * is the primary's deadline (0: none). Returns whether it was kept.
   */
  complete(key: string, token: number, stored: unknown, partition: number, expiresAt: number): boolean {
    const reservation = this.reservations.get(key);
    if (reservation === undefined || reservation.token !== token) {
      this.counters.raced++;
      return false;
    }
    this.reservations.delete(key);
    if (stored === undefined) return false;
    const cap = this.options.now() + this.options.maxTtlMs;
    const deadline = expiresAt > 0 && expiresAt < cap ? expiresAt : cap;
    this.entries.delete(key);
    this.entries.set(key, { stored, partition, expiresAt: deadline, referenced: false });
    if (this.entries.size > this.options.maxEntries) this.evictOne();
    return true;
  }

  /** Gives up a reservation (the read failed). */
  release(key: string, token: number): void {
    if (this.reservations.get(key)?.token === token) this.reservations.delete(key);
  }

  /** Drops `key` and cancels a read of it in flight. `version`: of the write that caused it, when known. */
  invalidate(key: string, version?: number): void {
    const reserved = this.reservations.delete(key);
    if (this.entries.delete(key) || reserved) this.counters.invalidations++;
    this.onInvalidate?.(key, version);
  }

  /** Drops every entry and reservation of `partition`. */
  dropPartition(partition: number): void {
    this.dropPartitions(new Set([partition]));
  }

  /** Drops every entry and reservation of the given partitions, in one pass. */
  dropPartitions(partitions: ReadonlySet<number>): void {
    if (partitions.size === 0) return;
    this.counters.partitionDrops += partitions.size;
    for (const [key, entry] of this.entries) if (partitions.has(entry.partition)) this.entries.delete(key);
    for (const [key, reservation] of this.reservations) {
      if (partitions.has(reservation.partition)) this.reservations.delete(key);
    }
  }

  /** Drops everything, reservations included. */
  clear(): void {
    this.counters.clears++;
    this.entries.clear();
    this.reservations.clear();
  }

  stats(): NearCacheStats {
    const hits = this.hits;
    const misses = this.counters.misses;
    return {
      ...this.counters,
      hits,
      entries: this.entries.size,
      maxEntries: this.options.maxEntries,
      hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses),
    };
  }

  private evictOne(): void {
    // second chance: referenced entries move to the back once, unreferenced ones go
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.referenced) {
        this.counters.evictions++;
        return;
      }
      entry.referenced = false;
      this.entries.set(key, entry);
    }
  }
}
