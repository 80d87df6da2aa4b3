/**
 * A node's copy of its partitions: the LocalCache plus what replication needs
 * beside it. Deletes leave tombstones (version + writer, kept `tombstoneTtlMs`)
 * so a late or migrated older copy cannot resurrect a deleted key; every
 * inbound copy goes through `apply`, which is last-writer-wins against both the
 * live entry and the tombstone. Partition-wide reads (migration, digests) are
 * scans over the store filtered by partition, so no per-partition index costs
 * memory on the hot path.
 */
import { ShoalError } from '@shoal/protocol';
import { hashKey } from '../eviction/key-hash.js';
import type { Clock } from '../store/clock.js';
import { compareVersions } from '../store/hybrid-clock.js';
import type { EntryRecord, LocalCache } from '../store/local-cache.js';
import { nextTurn, SCAN_KEYS_PER_TURN } from './scan-turns.js';

/** A deleted key's marker. */
export interface TombstoneRecord {
  kind: 'tombstone';
  version: number;
  origin: string;
  expiresAt: 0;
  value: null;
}

/** What replication moves for one key: its entry, or the fact that it was deleted. */
export type ReplicaRecord = EntryRecord | TombstoneRecord;

interface Tombstone {
  version: number;
  origin: string;
  deletedAt: number; // wall ms, for expiry of the tombstone itself
}

/** One page of a partition scan. `cursor` 0 means done. */
export interface PartitionPage {
  items: [key: string, record: ReplicaRecord][];
  cursor: number;
}

/** The store a replica keeps: entries + tombstones, with LWW application. */
export class ReplicaStore {
  private readonly tombstones = new Map<string, Tombstone>(); // insertion (= deletion time) ordered
  /** Told about every key whose record changed here (local write or applied copy): the invalidation stream. */
  onChange: ((key: string) => void) | undefined;

  constructor(
    readonly cache: LocalCache,
    private readonly partitionOf: (key: string) => number,
    private readonly clock: Clock,
    private readonly tombstoneTtlMs: number,
  ) {}

  /** The record of `key`: its entry, its tombstone, or undefined. */
  record(key: string): ReplicaRecord | undefined {
    const entry = this.cache.entry(key);
    if (entry !== undefined) return entry;
    const tomb = this.tombstones.get(key);
    return tomb === undefined ? undefined : tombstoneRecord(tomb);
  }

  /** Applies a record from elsewhere if newer than what is here. Returns whether it changed anything. */
  apply(key: string, record: ReplicaRecord): boolean {
    if (!isRecord(record))
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', `malformed record for ${JSON.stringify(key)}`);
    const tomb = this.tombstones.get(key);
    if (tomb !== undefined && compareVersions(record.version, record.origin, tomb.version, tomb.origin) <= 0)
      return false;
    if (record.kind === 'tombstone') {
      const local = this.cache.versionOf(key);
      if (local !== undefined && compareVersions(record.version, record.origin, local.version, local.origin) <= 0) {
        return false;
      }
      this.cache.observeVersion(record.version);
      this.cache.delete(key);
      this.setTombstone(key, { version: record.version, origin: record.origin, deletedAt: this.clock.now() });
      this.onChange?.(key);
      return true;
    }
    const applied = this.cache.applyEntry(key, record);
    if (applied && tomb !== undefined) this.tombstones.delete(key);
    if (applied) this.onChange?.(key);
    return applied;
  }

  /**
   * The record to replicate after a local write to `key`: the entry, or a
   * fresh tombstone when the write removed the key (delete, last field or element).
   */
  afterWrite(key: string, existedBefore: boolean): ReplicaRecord | undefined {
    const entry = this.cache.entry(key);
    if (entry !== undefined) {
      this.tombstones.delete(key);
      this.onChange?.(key);
      return entry;
    }
    if (!existedBefore) return undefined;
    this.onChange?.(key);
    const tomb: Tombstone = {
      version: this.cache.nextVersion(),
      origin: this.cache.options.nodeId,
      deletedAt: this.clock.now(),
    };
    this.setTombstone(key, tomb);
    return tombstoneRecord(tomb);
  }

  private setTombstone(key: string, tomb: Tombstone): void {
    this.tombstones.delete(key); // keep the map ordered by deletion time
    this.tombstones.set(key, tomb);
  }

  /** Forgets tombstones older than the TTL. Returns how many were dropped. */
  purgeTombstones(): number {
    const cutoff = this.clock.now() - this.tombstoneTtlMs;
    let dropped = 0;
    for (const [key, tomb] of this.tombstones) {
      if (tomb.deletedAt > cutoff) break;
      this.tombstones.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** Number of tombstones held. */
  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /**
   * Records of keys in `partitions`, a page at a time: first the entries (cursor
   * walks the store's slots), then the tombstones (cursor beyond TOMBSTONE_BASE).
   */
  scanPartitions(partitions: ReadonlySet<number>, cursor: number, maxItems: number): PartitionPage {
    const items: [string, ReplicaRecord][] = [];
    let next = cursor;
    if (next < TOMBSTONE_BASE) {
      do {
        const page = this.cache.scan({ cursor: next, count: 256 });
        for (const key of page.keys) {
          if (!partitions.has(this.partitionOf(key))) continue;
          const record = this.cache.entry(key);
          if (record !== undefined) items.push([key, record]);
        }
        next = page.cursor === 0 ? TOMBSTONE_BASE : page.cursor;
      } while (next < TOMBSTONE_BASE && items.length < maxItems);
      if (items.length >= maxItems) return { items, cursor: next };
    }
    // tombstones are few; send the ones of these partitions in one go
    for (const [key, tomb] of this.tombstones) {
      if (partitions.has(this.partitionOf(key))) items.push([key, tombstoneRecord(tomb)]);
    }
    return { items, cursor: 0 };
  }

  /**
   * Per-partition digest of (key, version, writer) of everything held, for
   * anti-entropy. Reads the store in turns (scan-turns.ts); a write meanwhile
   * may or may not count, which at worst makes two copies look different and
   * costs a repair that changes nothing.
   */
  async digests(partitions: ReadonlySet<number>): Promise<Map<number, number>> {
    const digests = new Map<number, number>();
    for (const p of partitions) digests.set(p, 0);
    const add = (key: string, version: number, origin: string) => {
      const p = this.partitionOf(key);
      const current = digests.get(p);
      if (current === undefined) return;
      // xor of per-key hashes: order-independent, so two copies agree iff they hold the same versions
      digests.set(p, (current ^ hashKey(`${key}\u0000${version}\u0000${origin}`)) >>> 0);
    };
    let cursor = 0;
    do {
      const page = this.cache.scan({ cursor, count: SCAN_KEYS_PER_TURN });
      for (const key of page.keys) {
        const v = this.cache.versionOf(key);
        if (v !== undefined) add(key, v.version, v.origin);
      }
      cursor = page.cursor;
      if (cursor !== 0) await nextTurn();
    } while (cursor !== 0);
    for (const [key, tomb] of this.tombstones) add(key, tomb.version, tomb.origin);
    return digests;
  }

  /** Deletes every entry and tombstone whose partition `keep` rejects (partitions this node no longer owns). */
  dropPartitions(keep: (partition: number) => boolean): number {
    let dropped = 0;
    let cursor = 0;
    do {
      const page = this.cache.scan({ cursor, count: 512 });
      for (const key of page.keys) {
        if (!keep(this.partitionOf(key))) {
          this.cache.delete(key);
          dropped++;
        }
      }
      cursor = page.cursor;
    } while (cursor !== 0);
    for (const key of this.tombstones.keys()) if (!keep(this.partitionOf(key))) this.tombstones.delete(key);
    return dropped;
  }
}

/** Scan cursors at and above this value are in the tombstone phase. */
const TOMBSTONE_BASE = 2 ** 40;

function tombstoneRecord(tomb: Tombstone): TombstoneRecord {
  return { kind: 'tombstone', version: tomb.version, origin: tomb.origin, expiresAt: 0, value: null };
}

const KINDS = new Set(['value', 'hash', 'list', 'tombstone']);

/** Shape check of a record that came over the wire. */
export function isRecord(value: unknown): value is ReplicaRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.kind === 'string' &&
    KINDS.has(r.kind) &&
    typeof r.version === 'number' &&
    Number.isFinite(r.version) &&
    typeof r.origin === 'string' &&
    typeof r.expiresAt === 'number' &&
    (r.kind !== 'hash' || Array.isArray(r.value)) &&
    (r.kind !== 'list' || Array.isArray(r.value))
  );
}
