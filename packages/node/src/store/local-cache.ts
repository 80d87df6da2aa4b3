/**
 * LocalCache: the in-process store every Shoal node keeps its share of the
 * keyspace in, usable on its own like lru-cache. Entries live in parallel
 * arrays indexed by slot (key, value, kind, version, writer, accounted size);
 * a Map finds a key's slot, the eviction policy orders slots, and a timing
 * wheel holds deadlines. A hit is one Map lookup and a few typed-array writes,
 * with no allocation. It is one file on purpose: every operation touches the
 * same private arrays, and splitting it would put a call boundary on the hot path.
 */
import { type ScanOptions, type ScanResult, type SetOptions, ShoalError } from '@shoal/protocol';
import { createEvictionPolicy } from '../eviction/create-policy.js';
import type { EvictionPolicy, EvictionPolicyName } from '../eviction/eviction-policy.js';
import { hashKey } from '../eviction/key-hash.js';
import { Deque } from './deque.js';
import { ExpiryWheel } from './expiry-wheel.js';
import { globToRegExp } from './glob.js';
import { compareVersions, HybridClock } from './hybrid-clock.js';
import {
  type LocalCacheOptions,
  type RemovalListener,
  type RemovalReason,
  type ResolvedLocalCacheOptions,
  resolveLocalCacheOptions,
} from './local-cache-options.js';
import { parseTtl, validateKey } from './validation.js';
import {
  ELEMENT_OVERHEAD_BYTES,
  ENTRY_OVERHEAD_BYTES,
  FIELD_OVERHEAD_BYTES,
  sizeOfValue,
  tooLarge,
} from './value-size.js';

const VALUE = 0;
const HASH = 1;
const LIST = 2;
const KIND_NAMES = ['value', 'hash', 'list'] as const;
/** What kind of data a key holds. */
export type EntryKind = (typeof KIND_NAMES)[number];

/** The store's call options and scan pages are the shared API's (`@shoal/protocol`). */
export type { ScanOptions, ScanResult, SetOptions } from '@shoal/protocol';

/** Counters of one cache. */
export interface CacheStats {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  evictions: number;
  expirations: number;
  entries: number;
  /** Accounted bytes of all entries (see docs/ARCHITECTURE.md "Memory accounting"). */
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  eviction: EvictionPolicyName;
  /** hits / (hits + misses), 0 before the first read. */
  hitRatio: number;
}

/** A whole entry as replication and migration move it. */
export interface EntryRecord {
  kind: EntryKind;
  /** The value; a hash travels as [field, value] pairs, a list as an array. */
  value: unknown;
  /** Hybrid-clock version of the last write. */
  version: number;
  /** Id of the node that made the last write (breaks version ties). */
  origin: string;
  /** Deadline in wall ms, 0 for none. */
  expiresAt: number;
}

type HashValue = Map<string, unknown>;
type ListValue = Deque<unknown>;

const noop: RemovalListener = () => {};

/** The form users see: hashes as records, lists as arrays. */
function publicValue(stored: unknown): unknown {
  if (stored instanceof Map) return Object.fromEntries(stored);
  if (stored instanceof Deque) return stored.toArray();
  return stored;
}

/** A bounded in-process cache of values, hashes, lists and counters with TTLs and versions. */
export class LocalCache {
  /** The options in force, resolved and frozen. */
  readonly options: ResolvedLocalCacheOptions;
  private readonly keyMap = new Map<string, number>();
  private keys: (string | undefined)[];
  private values: unknown[];
  private kinds: Uint8Array;
  private versions: Float64Array;
  private origins: Uint16Array; // index into originIds; 0 is this cache's own nodeId
  private sizes: Float64Array; // accounted bytes of the entry, overhead included
  private freeSlots: Uint32Array;
  private freeTop = 0;
  private nextUnused = 0; // slots at and above were never used
  private capacity: number;
  private readonly maxSlots: number;
  private readonly policy: EvictionPolicy;
  private wheel: ExpiryWheel | null = null; // created by the first TTL
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly hlc: HybridClock;
  private readonly originIds: string[];
  private readonly originIndex = new Map<string, number>();
  private readonly onRemove: RemovalListener;
  private readonly fastKeyChars: number; // keys up to this many chars need no byte count
  private readonly fastStringChars: number; // string values up to this many chars need no byte count
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private setCount = 0;
  private deleteCount = 0;
  private evictionCount = 0;
  private expirationCount = 0;
  private closed = false;

  constructor(options: LocalCacheOptions) {
    const o = resolveLocalCacheOptions(options);
    this.options = o;
    // one spare slot: a new entry is inserted before the policy picks who leaves
    this.maxSlots = Number.isFinite(o.maxEntries) ? o.maxEntries + 1 : 2 ** 31;
    this.capacity = Math.min(this.maxSlots, 1024);
    this.keys = new Array(this.capacity);
    this.values = new Array(this.capacity);
    this.kinds = new Uint8Array(this.capacity);
    this.versions = new Float64Array(this.capacity);
    this.origins = new Uint16Array(this.capacity);
    this.sizes = new Float64Array(this.capacity);
    this.freeSlots = new Uint32Array(this.capacity);
    this.policy = createEvictionPolicy(o.eviction, Number.isFinite(o.maxEntries) ? o.maxEntries : 0);
    this.policy.resize(this.capacity);
    this.hlc = new HybridClock(o.clock);
    this.originIds = [o.nodeId];
    this.originIndex.set(o.nodeId, 0);
    this.onRemove = o.onRemove ?? noop;
    this.fastKeyChars = Math.floor(o.maxKeyBytes / 3);
    this.fastStringChars = Math.floor(o.maxValueBytes / 3);
  }

  /** Number of entries held (entries past their deadline count until swept or read). */
  get size(): number {
    return this.keyMap.size;
  }

  // ---------------------------------------------------------------- values

  /** The value of `key`, or undefined. Throws SHOAL_STORE_WRONG_TYPE for a hash or list. */
  get(key: string): unknown {
    const slot = this.keyMap.get(key);
    if (slot === undefined) return this.miss(key);
    if (this.wheel !== null && this.isExpired(slot)) {
      this.expireSlot(slot);
      return this.miss(key);
    }
    if (this.kinds[slot] !== VALUE) throw this.wrongType(key, slot, 'get');
    this.policy.touch(slot);
    this.hits++;
    return this.values[slot];
  }

  private miss(key: string): undefined {
    if (typeof key !== 'string') validateKey(key, this.options.maxKeyBytes);
    if (this.policy.usesKeyHash) this.policy.recordMiss(hashKey(key));
    this.misses++;
    return undefined;
  }

  /**
   * Stores `value` under `key`. Returns false when `nx`/`xx` prevented the write.
   * Throws SHOAL_STORE_WRONG_TYPE over a hash or list (delete it first), and
   * SHOAL_KEY_INVALID / SHOAL_VALUE_INVALID / SHOAL_VALUE_TOO_LARGE for bad input.
   */
  set(key: string, value: unknown, options?: SetOptions): boolean {
    this.checkWritable(key);
    const valueBytes =
      typeof value === 'string' && value.length <= this.fastStringChars
        ? value.length
        : sizeOfValue(value, this.options.maxValueBytes);
    const size = ENTRY_OVERHEAD_BYTES + key.length + valueBytes;
    if (size > this.options.maxBytes) throw tooLarge(size, this.options.maxBytes, true);
    let ttlMs = this.options.defaultTtlMs;
    let keepTtl = false;
    let slot = this.liveSlot(key);
    if (options !== undefined) {
      if (options.ttl !== undefined) ttlMs = parseTtl(options.ttl);
      keepTtl = options.keepTtl === true;
      if (options.nx === true && slot !== undefined) return false;
      if (options.xx === true && slot === undefined) return false;
    }
    const version = this.hlc.next();
    if (slot === undefined) {
      slot = this.insert(key, VALUE, value, size, version);
    } else {
      if (this.kinds[slot] !== VALUE) throw this.wrongType(key, slot, 'set');
      this.values[slot] = value;
      this.resizeSlot(slot, size);
      this.versions[slot] = version;
      this.origins[slot] = 0;
      this.policy.touch(slot);
      if (!keepTtl && this.wheel !== null) this.wheel.cancel(slot);
    }
    if (ttlMs > 0 && !(keepTtl && this.hasDeadline(slot))) this.setDeadline(slot, this.options.clock.now() + ttlMs);
    this.setCount++;
    this.enforceBounds(slot);
    return true;
  }

  /** True when `key` exists (of any kind). Does not count as a use for eviction. */
  has(key: string): boolean {
    return this.liveSlot(key) !== undefined;
  }

  /** Removes `key` (of any kind). Returns whether it existed. */
  delete(key: string): boolean {
    const slot = this.liveSlot(key);
    if (slot === undefined) return false;
    this.removeSlot(slot, 'deleted');
    this.deleteCount++;
    return true;
  }

  /** Values of many keys; undefined for a missing key or one holding a hash or list (as Redis MGET). */
  mget(keys: readonly string[]): unknown[] {
    const out = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const slot = this.liveSlot(key);
      out[i] = slot !== undefined && this.kinds[slot] === VALUE ? this.get(key) : this.miss(key);
    }
    return out;
  }

  /**
   * Sets many keys with the same options. Every key and value is validated
   * before the first write, so bad input writes nothing.
   */
  mset(entries: Record<string, unknown> | Iterable<readonly [string, unknown]>, options?: SetOptions): void {
    const list: (readonly [string, unknown])[] =
      Symbol.iterator in Object(entries)
        ? [...(entries as Iterable<readonly [string, unknown]>)]
        : Object.entries(entries as Record<string, unknown>);
    for (const [key, value] of list) {
      this.checkWritable(key);
      sizeOfValue(value, this.options.maxValueBytes);
      const slot = this.liveSlot(key);
      if (slot !== undefined && this.kinds[slot] !== VALUE) throw this.wrongType(key, slot, 'mset');
    }
    for (const [key, value] of list) this.set(key, value, options);
  }

  // ---------------------------------------------------------------- TTL

  /** Gives `key` a time to live (ms or duration string). Returns false when the key does not exist. */
  expire(key: string, ttl: number | string): boolean {
    const ttlMs = parseTtl(ttl);
    const slot = this.liveSlot(key);
    if (slot === undefined) return false;
    this.setDeadline(slot, this.options.clock.now() + ttlMs);
    this.bumpVersion(slot);
    return true;
  }

  /** Removes the TTL of `key`. Returns false when the key does not exist or had none. */
  persist(key: string): boolean {
    const slot = this.liveSlot(key);
    if (slot === undefined || !this.hasDeadline(slot)) return false;
    this.wheel?.cancel(slot);
    this.bumpVersion(slot);
    return true;
  }

  /** Milliseconds left to live; -1 when the key has no TTL, -2 when it does not exist (as Redis PTTL). */
  ttl(key: string): number {
    const slot = this.liveSlot(key);
    if (slot === undefined) return -2;
    if (!this.hasDeadline(slot)) return -1;
    return Math.max(0, (this.wheel?.expiresAt[slot] as number) - this.options.clock.now());
  }

  /**
   * Frees entries past their deadline, examining at most `maxWork` entries
   * (default: the maxSweepWork option). The sweep timer calls this; tests call it
   * with a manual clock. Returns how many entries expired.
   */
  purgeExpired(maxWork = this.options.maxSweepWork): number {
    if (this.wheel === null) return 0;
    return this.wheel.sweep(this.options.clock.now(), maxWork, (slot) => this.expireSlot(slot));
  }

  // ---------------------------------------------------------------- counters

  /** Adds `by` (a safe integer, default 1) to the integer at `key` (missing counts as 0); returns the result. */
  incr(key: string, by = 1): number {
    if (!Number.isSafeInteger(by)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `increment ${String(by)} is not a safe integer`, { by });
    }
    this.checkWritable(key);
    const slot = this.liveSlot(key);
    if (slot === undefined) {
      this.enforceBounds(this.insert(key, VALUE, by, ENTRY_OVERHEAD_BYTES + key.length + 9, this.hlc.next()));
      this.setCount++;
      return by;
    }
    if (this.kinds[slot] !== VALUE) throw this.wrongType(key, slot, 'incr');
    const current = this.values[slot];
    if (typeof current !== 'number' || !Number.isSafeInteger(current)) {
      throw new ShoalError('SHOAL_STORE_NOT_INTEGER', `value of ${JSON.stringify(key)} is not a safe integer`, { key });
    }
    const next = current + by;
    if (!Number.isSafeInteger(next)) {
      throw new ShoalError('SHOAL_STORE_NOT_INTEGER', `incrementing ${JSON.stringify(key)} by ${by} overflows`, {
        key,
        by,
      });
    }
    this.values[slot] = next;
    this.resizeSlot(slot, ENTRY_OVERHEAD_BYTES + key.length + 9);
    this.bumpVersion(slot);
    this.policy.touch(slot);
    this.setCount++;
    return next;
  }

  /** Subtracts `by` (default 1) from the integer at `key`; returns the result. */
  decr(key: string, by = 1): number {
    if (!Number.isSafeInteger(by)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `decrement ${String(by)} is not a safe integer`, { by });
    }
    return this.incr(key, -by);
  }

  // ---------------------------------------------------------------- hashes

  /** Sets one field, or several from a record. Returns how many fields were new. */
  hset(key: string, field: string, value: unknown): number;
  hset(key: string, fields: Record<string, unknown>): number;
  hset(key: string, fieldOrFields: string | Record<string, unknown>, value?: unknown): number {
    this.checkWritable(key);
    const pairs: [string, unknown][] =
      typeof fieldOrFields === 'string' ? [[fieldOrFields, value]] : Object.entries(fieldOrFields ?? {});
    if (pairs.length === 0) throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'hset needs at least one field', { key });
    let slot = this.liveSlot(key);
    if (slot !== undefined && this.kinds[slot] !== HASH) throw this.wrongType(key, slot, 'hset');
    const hash: HashValue | undefined = slot === undefined ? undefined : (this.values[slot] as HashValue);
    let delta = 0;
    for (const [field, v] of pairs) {
      this.checkField(field);
      delta += FIELD_OVERHEAD_BYTES + field.length + sizeOfValue(v, this.options.maxValueBytes);
      if (hash?.has(field)) delta -= FIELD_OVERHEAD_BYTES + field.length + this.sizeOfStored(hash.get(field));
    }
    const size = (slot === undefined ? ENTRY_OVERHEAD_BYTES + key.length : (this.sizes[slot] as number)) + delta;
    if (size > this.options.maxBytes) throw tooLarge(size, this.options.maxBytes, true);
    const target = hash ?? new Map<string, unknown>();
    let added = 0;
    for (const [field, v] of pairs) {
      if (!target.has(field)) added++;
      target.set(field, v);
    }
    if (slot === undefined) slot = this.insert(key, HASH, target, size, this.hlc.next());
    else this.touchWrite(slot, size);
    this.setCount++;
    this.enforceBounds(slot);
    return added;
  }

  /** One field of the hash at `key`, or undefined. */
  hget(key: string, field: string): unknown {
    const hash = this.readHash(key, 'hget');
    return hash?.get(field);
  }

  /** Every field of the hash at `key` as a record ({} when the key does not exist). */
  hgetall(key: string): Record<string, unknown> {
    const hash = this.readHash(key, 'hgetall');
    return hash === undefined ? {} : Object.fromEntries(hash);
  }

  /** Number of fields of the hash at `key` (0 when it does not exist). */
  hlen(key: string): number {
    return this.readHash(key, 'hlen')?.size ?? 0;
  }

  /** Removes fields; returns how many existed. An emptied hash is deleted, as in Redis. */
  hdel(key: string, ...fields: string[]): number {
    const slot = this.liveSlot(key);
    if (slot === undefined) return 0;
    if (this.kinds[slot] !== HASH) throw this.wrongType(key, slot, 'hdel');
    const hash = this.values[slot] as HashValue;
    let removed = 0;
    let size = this.sizes[slot] as number;
    for (const field of fields) {
      if (!hash.has(field)) continue;
      size -= FIELD_OVERHEAD_BYTES + field.length + this.sizeOfStored(hash.get(field));
      hash.delete(field);
      removed++;
    }
    if (removed === 0) return 0;
    if (hash.size === 0) this.removeSlot(slot, 'deleted');
    else this.touchWrite(slot, size);
    return removed;
  }

  private readHash(key: string, op: string): HashValue | undefined {
    const slot = this.liveSlot(key);
    if (slot === undefined) {
      this.miss(key);
      return undefined;
    }
    if (this.kinds[slot] !== HASH) throw this.wrongType(key, slot, op);
    this.policy.touch(slot);
    this.hits++;
    return this.values[slot] as HashValue;
  }

  // ---------------------------------------------------------------- lists

  /** Prepends values (the last one ends up first, as in Redis); returns the new length. */
  lpush(key: string, ...values: unknown[]): number {
    return this.push(key, values, true);
  }

  /** Appends values; returns the new length. */
  rpush(key: string, ...values: unknown[]): number {
    return this.push(key, values, false);
  }

  private push(key: string, values: unknown[], front: boolean): number {
    this.checkWritable(key);
    if (values.length === 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `${front ? 'lpush' : 'rpush'} needs at least one value`, { key });
    }
    let slot = this.liveSlot(key);
    if (slot !== undefined && this.kinds[slot] !== LIST) throw this.wrongType(key, slot, front ? 'lpush' : 'rpush');
    let delta = 0;
    for (const v of values) delta += ELEMENT_OVERHEAD_BYTES + sizeOfValue(v, this.options.maxValueBytes);
    const size = (slot === undefined ? ENTRY_OVERHEAD_BYTES + key.length : (this.sizes[slot] as number)) + delta;
    if (size > this.options.maxBytes) throw tooLarge(size, this.options.maxBytes, true);
    const list: ListValue = slot === undefined ? new Deque() : (this.values[slot] as ListValue);
    for (const v of values) {
      if (front) list.pushFront(v);
      else list.pushBack(v);
    }
    if (slot === undefined) slot = this.insert(key, LIST, list, size, this.hlc.next());
    else this.touchWrite(slot, size);
    this.setCount++;
    this.enforceBounds(slot);
    return list.length;
  }

  /** Removes and returns the first element (undefined when the list does not exist). */
  lpop(key: string): unknown {
    return this.pop(key, true);
  }

  /** Removes and returns the last element (undefined when the list does not exist). */
  rpop(key: string): unknown {
    return this.pop(key, false);
  }

  private pop(key: string, front: boolean): unknown {
    const slot = this.liveSlot(key);
    if (slot === undefined) return undefined;
    if (this.kinds[slot] !== LIST) throw this.wrongType(key, slot, front ? 'lpop' : 'rpop');
    const list = this.values[slot] as ListValue;
    const value = front ? list.popFront() : list.popBack();
    if (list.length === 0) this.removeSlot(slot, 'deleted');
    else this.touchWrite(slot, (this.sizes[slot] as number) - ELEMENT_OVERHEAD_BYTES - this.sizeOfStored(value));
    return value;
  }

  /** Elements `start..stop` inclusive; negative indexes count from the end (-1 is the last), as in Redis LRANGE. */
  lrange(key: string, start: number, stop: number): unknown[] {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'lrange start and stop must be integers', { start, stop });
    }
    const list = this.readList(key, 'lrange');
    if (list === undefined) return [];
    const n = list.length;
    const from = Math.max(0, start < 0 ? n + start : start);
    const to = Math.min(n - 1, stop < 0 ? n + stop : stop);
    return from > to ? [] : list.slice(from, to);
  }

  /** Length of the list at `key` (0 when it does not exist). */
  llen(key: string): number {
    return this.readList(key, 'llen')?.length ?? 0;
  }

  private readList(key: string, op: string): ListValue | undefined {
    const slot = this.liveSlot(key);
    if (slot === undefined) {
      this.miss(key);
      return undefined;
    }
    if (this.kinds[slot] !== LIST) throw this.wrongType(key, slot, op);
    this.policy.touch(slot);
    this.hits++;
    return this.values[slot] as ListValue;
  }

  // ---------------------------------------------------------------- scan, stats, lifecycle

  /**
   * Iterates keys in pages, as Redis SCAN: a key present for the whole scan is
   * returned at least once; keys added or removed meanwhile may or may not be.
   */
  scan(options: ScanOptions = {}): ScanResult {
    const cursor = options.cursor ?? 0;
    const count = options.count ?? 100;
    if (!Number.isSafeInteger(cursor) || cursor < 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `scan cursor ${String(cursor)} is not a cursor scan returned`, {
        cursor,
      });
    }
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `scan count ${String(count)} is not a positive integer`, {
        count,
      });
    }
    const pattern = options.match === undefined ? undefined : globToRegExp(options.match);
    const prefix = options.prefix ?? '';
    const now = this.wheel === null ? 0 : this.options.clock.now();
    const keys: string[] = [];
    // slots never move, so walking slot indexes visits every long-lived key once
    let slot = cursor;
    const limit = Math.min(this.nextUnused, cursor + count * 10);
    for (; slot < limit && keys.length < count; slot++) {
      const key = this.keys[slot];
      if (key === undefined || !key.startsWith(prefix)) continue;
      if (this.wheel !== null) {
        const at = this.wheel.expiresAt[slot] as number;
        if (at !== 0 && at <= now) continue;
      }
      if (pattern === undefined || pattern.test(key)) keys.push(key);
    }
    return { cursor: slot >= this.nextUnused ? 0 : slot, keys };
  }

  /** The kind of data at `key`, or undefined when it does not exist. */
  type(key: string): EntryKind | undefined {
    const slot = this.liveSlot(key);
    return slot === undefined ? undefined : KIND_NAMES[this.kinds[slot] as number];
  }

  /** Counters since construction (entries and bytes are current). */
  stats(): CacheStats {
    const reads = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      sets: this.setCount,
      deletes: this.deleteCount,
      evictions: this.evictionCount,
      expirations: this.expirationCount,
      entries: this.keyMap.size,
      bytes: this.bytes,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      eviction: this.options.eviction,
      hitRatio: reads === 0 ? 0 : this.hits / reads,
    };
  }

  /** Removes every entry without notifying onRemove. Counters are kept. */
  clear(): void {
    this.keyMap.clear();
    this.keys = new Array(this.capacity);
    this.values = new Array(this.capacity);
    this.freeTop = 0;
    this.nextUnused = 0;
    this.bytes = 0;
    this.policy.clear();
    this.wheel?.clear();
  }

  /** Stops the sweep timer and drops every entry; later writes throw SHOAL_STORE_CLOSED. Safe to call twice. */
  close(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.closed = true;
    this.clear();
  }

  // ---------------------------------------------------------------- replication hooks

  /** A copy of the whole entry at `key` for replication or migration, or undefined. */
  entry(key: string): EntryRecord | undefined {
    const slot = this.liveSlot(key);
    if (slot === undefined) return undefined;
    const kind = this.kinds[slot] as number;
    const stored = this.values[slot];
    return {
      kind: KIND_NAMES[kind] as EntryKind,
      value: kind === HASH ? [...(stored as HashValue)] : kind === LIST ? (stored as ListValue).toArray() : stored,
      version: this.versions[slot] as number,
      origin: this.originIds[this.origins[slot] as number] as string,
      expiresAt: this.hasDeadline(slot) ? (this.wheel?.expiresAt[slot] as number) : 0,
    };
  }

  /**
   * Applies an entry written elsewhere if it is newer than the local one
   * (last-writer-wins on version, then writer id). Returns whether it was applied.
   * An already-expired record removes an older local entry.
   */
  applyEntry(key: string, record: EntryRecord): boolean {
    this.checkWritable(key);
    const slot = this.liveSlot(key);
    if (slot !== undefined) {
      const local = this.originIds[this.origins[slot] as number] as string;
      if (compareVersions(record.version, record.origin, this.versions[slot] as number, local) <= 0) return false;
    }
    this.hlc.observe(record.version);
    if (slot !== undefined) this.removeSlot(slot, 'deleted');
    if (record.expiresAt !== 0 && record.expiresAt <= this.options.clock.now()) return true;
    const kind = KIND_NAMES.indexOf(record.kind);
    if (kind < 0) throw new ShoalError('SHOAL_ARGUMENT_INVALID', `unknown entry kind ${String(record.kind)}`, { key });
    let value: unknown = record.value;
    let size = ENTRY_OVERHEAD_BYTES + key.length;
    if (kind === HASH) {
      const hash = new Map<string, unknown>(record.value as [string, unknown][]);
      for (const [field, v] of hash)
        size += FIELD_OVERHEAD_BYTES + field.length + sizeOfValue(v, Number.POSITIVE_INFINITY);
      value = hash;
    } else if (kind === LIST) {
      const list = new Deque<unknown>();
      for (const v of record.value as unknown[]) {
        list.pushBack(v);
        size += ELEMENT_OVERHEAD_BYTES + sizeOfValue(v, Number.POSITIVE_INFINITY);
      }
      value = list;
    } else size += sizeOfValue(value, this.options.maxValueBytes);
    const inserted = this.insert(key, kind, value, size, record.version);
    this.origins[inserted] = this.originOf(record.origin);
    if (record.expiresAt !== 0) this.setDeadline(inserted, record.expiresAt);
    this.enforceBounds(inserted);
    return true;
  }

  /** Version and writer of the entry at `key` (no copy of the value), or undefined. */
  versionOf(key: string): { version: number; origin: string } | undefined {
    const slot = this.liveSlot(key);
    if (slot === undefined) return undefined;
    return { version: this.versions[slot] as number, origin: this.originIds[this.origins[slot] as number] as string };
  }

  /** True when the eviction policy counts uses (lfu, tinylfu), so `hotness` can rank keys; false under lru. */
  get ranksHotness(): boolean {
    const policy = this.policy as { frequencyOf?: unknown; frequency?: unknown };
    return policy.frequencyOf !== undefined || policy.frequency !== undefined;
  }

  /**
   * How much the eviction policy values `key` (its frequency, 0..15, under lfu and tinylfu; 0 under
   * lru, which keeps no count), 0 when absent. Read-only: touches nothing, counts no hit. The
   * rebalancer sends the hottest keys of a partition first so a rejoining node warms what is read.
   */
  hotness(key: string): number {
    const slot = this.keyMap.get(key);
    if (slot === undefined) return 0;
    const policy = this.policy as {
      frequencyOf?: (slot: number) => number;
      frequency?: (keyHash: number) => number;
    };
    if (policy.frequencyOf !== undefined) return policy.frequencyOf(slot);
    if (policy.frequency !== undefined) return policy.frequency(hashKey(key));
    return 0;
  }

  /** A fresh version from this cache's hybrid clock (for tombstones the replication layer keeps). */
  nextVersion(): number {
    return this.hlc.next();
  }

  /** Moves this cache's clock past a version seen elsewhere. */
  observeVersion(version: number): void {
    this.hlc.observe(version);
  }

  // ---------------------------------------------------------------- internals

  /** Slot of `key` if it exists and has not expired (an expired one is freed on the way). */
  private liveSlot(key: string): number | undefined {
    const slot = this.keyMap.get(key);
    if (slot !== undefined && this.wheel !== null && this.isExpired(slot)) {
      this.expireSlot(slot);
      return undefined;
    }
    return slot;
  }

  private isExpired(slot: number): boolean {
    const at = (this.wheel as ExpiryWheel).expiresAt[slot] as number;
    return at !== 0 && at <= this.options.clock.now();
  }

  private hasDeadline(slot: number): boolean {
    return this.wheel !== null && this.wheel.expiresAt[slot] !== 0;
  }

  private setDeadline(slot: number, at: number): void {
    if (this.wheel === null) {
      this.wheel = new ExpiryWheel(this.capacity);
      const interval = this.options.sweepIntervalMs;
      if (interval > 0 && !this.closed) {
        this.sweepTimer = setInterval(() => this.purgeExpired(), interval);
        this.sweepTimer.unref();
      }
    }
    this.wheel.schedule(slot, at);
  }

  private checkWritable(key: string): void {
    if (this.closed) throw new ShoalError('SHOAL_STORE_CLOSED', 'the cache has been closed');
    if (typeof key !== 'string' || key.length === 0 || key.length > this.fastKeyChars) {
      validateKey(key, this.options.maxKeyBytes);
    }
  }

  private checkField(field: string): void {
    if (typeof field !== 'string' || field.length > this.fastKeyChars)
      validateKey(field, this.options.maxKeyBytes, 'field');
  }

  private wrongType(key: string, slot: number, op: string): ShoalError {
    const kind = KIND_NAMES[this.kinds[slot] as number];
    return new ShoalError(
      'SHOAL_STORE_WRONG_TYPE',
      `${op} cannot be used on ${JSON.stringify(key)}, which holds a ${kind}`,
      {
        key,
        kind,
        op,
      },
    );
  }

  /** Accounted size of a value already in the store (it passed validation once). */
  private sizeOfStored(value: unknown): number {
    return typeof value === 'string' ? value.length : sizeOfValue(value, Number.POSITIVE_INFINITY);
  }

  private originOf(id: string): number {
    let index = this.originIndex.get(id);
    if (index === undefined) {
      if (this.originIds.length >= 0xffff) throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'too many distinct writers');
      index = this.originIds.length;
      this.originIds.push(id);
      this.originIndex.set(id, index);
    }
    return index;
  }

  private bumpVersion(slot: number): void {
    this.versions[slot] = this.hlc.next();
    this.origins[slot] = 0;
  }

  private touchWrite(slot: number, size: number): void {
    this.resizeSlot(slot, size);
    this.bumpVersion(slot);
    this.policy.touch(slot);
  }

  private resizeSlot(slot: number, size: number): void {
    this.bytes += size - (this.sizes[slot] as number);
    this.sizes[slot] = size;
  }

  private insert(key: string, kind: number, value: unknown, size: number, version: number): number {
    const slot = this.freeTop > 0 ? (this.freeSlots[--this.freeTop] as number) : this.unusedSlot();
    this.keyMap.set(key, slot);
    this.keys[slot] = key;
    this.values[slot] = value;
    this.kinds[slot] = kind;
    this.versions[slot] = version;
    this.origins[slot] = 0;
    this.sizes[slot] = size;
    this.bytes += size;
    this.policy.insert(slot, this.policy.usesKeyHash ? hashKey(key) : 0);
    return slot;
  }

  private unusedSlot(): number {
    if (this.nextUnused === this.capacity) this.grow();
    return this.nextUnused++;
  }

  private grow(): void {
    const capacity = Math.min(this.maxSlots, this.capacity * 2);
    const kinds = new Uint8Array(capacity);
    const versions = new Float64Array(capacity);
    const origins = new Uint16Array(capacity);
    const sizes = new Float64Array(capacity);
    const freeSlots = new Uint32Array(capacity);
    kinds.set(this.kinds);
    versions.set(this.versions);
    origins.set(this.origins);
    sizes.set(this.sizes);
    freeSlots.set(this.freeSlots);
    this.kinds = kinds;
    this.versions = versions;
    this.origins = origins;
    this.sizes = sizes;
    this.freeSlots = freeSlots;
    this.keys.length = capacity;
    this.values.length = capacity;
    this.policy.resize(capacity);
    this.wheel?.resize(capacity);
    this.capacity = capacity;
  }

  /** Evicts until within maxEntries and the memory budget, never the entry just written. */
  private enforceBounds(protect: number): void {
    while (this.keyMap.size > this.options.maxEntries || this.bytes > this.options.maxBytes) {
      const victim = this.policy.victim(protect);
      if (victim < 0) return;
      this.evictionCount++;
      this.removeSlot(victim, 'evicted');
    }
  }

  private expireSlot(slot: number): void {
    this.expirationCount++;
    this.removeSlot(slot, 'expired');
  }

  private removeSlot(slot: number, reason: RemovalReason): void {
    const key = this.keys[slot] as string;
    const value = this.values[slot];
    this.keyMap.delete(key);
    this.policy.remove(slot);
    this.wheel?.cancel(slot);
    this.bytes -= this.sizes[slot] as number;
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.freeSlots[this.freeTop++] = slot;
    if (this.onRemove !== noop) this.notifyRemoval(key, value, reason);
  }

  private notifyRemoval(key: string, value: unknown, reason: RemovalReason): void {
    try {
      this.onRemove(key, publicValue(value), reason);
    } catch (err) {
      process.emitWarning(`onRemove threw for ${JSON.stringify(key)}: ${String(err)}`, { code: 'SHOAL_HOOK_THREW' });
    }
  }
}
