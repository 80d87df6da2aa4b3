/**
 * Options of LocalCache: resolved once (defaults, then validation of every
 * field, then freeze), so the hot path never re-checks them and a bad option
 * fails at construction with a message naming it.
 */
import { parseBytes, parseDuration, ShoalError } from '@shoal/protocol';
import type { EvictionPolicyName } from '../eviction/eviction-policy.js';
import { type Clock, systemClock } from './clock.js';

/** Why an entry left the cache, as reported to `onRemove`. */
export type RemovalReason = 'evicted' | 'expired' | 'deleted';

/** Called after an entry left the cache (not on overwrite). Must not throw. */
export type RemovalListener = (key: string, value: unknown, reason: RemovalReason) => void;

/** User options for `new LocalCache(...)`. At least one of `maxEntries` and `memory` is required. */
export interface LocalCacheOptions {
  /** Most entries kept; beyond it the eviction policy picks victims. */
  maxEntries?: number;
  /** Memory budget in bytes, or a size string ('256mb'); see docs/ARCHITECTURE.md for what is counted. */
  memory?: number | string;
  /** Eviction policy. Default 'tinylfu' (best hit ratio on skewed and scan-heavy traffic). */
  eviction?: EvictionPolicyName;
  /** Longest key accepted, in UTF-8 bytes. Default 1024. */
  maxKeyBytes?: number;
  /** Largest value accepted (accounted size), in bytes or a size string. Default '16mb' (capped at `memory`). */
  maxValueBytes?: number | string;
  /** TTL applied by `set` when the call gives none, in ms or a duration string. Default: none. */
  defaultTtl?: number | string;
  /** How often the active expiry sweep runs, in ms. 0 disables it (expiry is then lazy only). Default 100. */
  sweepIntervalMs?: number;
  /** Most entries one sweep tick examines (bounds its pause). Default 10000. */
  maxSweepWork?: number;
  /** Time source (tests inject a ManualClock). Default: Date.now. */
  clock?: Clock;
  /** Writer id stamped on versions of local writes (a node passes its id). Default 'local'. */
  nodeId?: string;
  /** Hook told about evictions, expirations and deletions. */
  onRemove?: RemovalListener;
}

/** Complete, validated and frozen options. */
export interface ResolvedLocalCacheOptions {
  readonly maxEntries: number; // Infinity when only memory bounds the cache
  readonly maxBytes: number; // Infinity when only maxEntries bounds the cache
  readonly eviction: EvictionPolicyName;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly defaultTtlMs: number; // 0 = none
  readonly sweepIntervalMs: number;
  readonly maxSweepWork: number;
  readonly clock: Clock;
  readonly nodeId: string;
  readonly onRemove: RemovalListener | undefined;
}

const KNOWN = new Set([
  'maxEntries',
  'memory',
  'eviction',
  'maxKeyBytes',
  'maxValueBytes',
  'defaultTtl',
  'sweepIntervalMs',
  'maxSweepWork',
  'clock',
  'nodeId',
  'onRemove',
]);
const POLICIES: readonly EvictionPolicyName[] = ['lru', 'lfu', 'tinylfu'];

function configError(message: string, option: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', message, { option });
}

function positiveInteger(value: unknown, option: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw configError(
      `${option}: ${JSON.stringify(value)} is not a ${allowZero ? 'non-negative' : 'positive'} integer`,
      option,
    );
  }
  return value;
}

/** Applies defaults, validates every field and freezes the result. */
export function resolveLocalCacheOptions(options: LocalCacheOptions): ResolvedLocalCacheOptions {
  if (typeof options !== 'object' || options === null) {
    throw configError('LocalCache options must be an object with maxEntries and/or memory', 'options');
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) {
      const hint = name === 'max' ? ' (did you mean maxEntries?)' : name === 'ttl' ? ' (did you mean defaultTtl?)' : '';
      throw configError(`unknown option ${JSON.stringify(name)}${hint}`, name);
    }
  }
  if (options.maxEntries === undefined && options.memory === undefined) {
    throw configError('LocalCache needs a bound: set maxEntries, memory, or both', 'maxEntries');
  }
  const maxEntries =
    options.maxEntries === undefined ? Number.POSITIVE_INFINITY : positiveInteger(options.maxEntries, 'maxEntries');
  if (Number.isFinite(maxEntries) && maxEntries > 2 ** 31)
    throw configError('maxEntries: at most 2^31 entries', 'maxEntries');
  const maxBytes = options.memory === undefined ? Number.POSITIVE_INFINITY : parseBytes(options.memory, 'memory');
  if (maxBytes === 0) throw configError('memory: the budget must be larger than 0 bytes', 'memory');
  const eviction = options.eviction ?? 'tinylfu';
  if (!POLICIES.includes(eviction)) {
    throw configError(`eviction: ${JSON.stringify(eviction)} is not one of ${POLICIES.join(', ')}`, 'eviction');
  }
  const maxKeyBytes = options.maxKeyBytes === undefined ? 1024 : positiveInteger(options.maxKeyBytes, 'maxKeyBytes');
  const maxValueBytes = Math.min(
    options.maxValueBytes === undefined ? 16 * 1024 * 1024 : parseBytes(options.maxValueBytes, 'maxValueBytes'),
    maxBytes,
  );
  if (maxValueBytes === 0) throw configError('maxValueBytes: must be larger than 0', 'maxValueBytes');
  const defaultTtlMs = options.defaultTtl === undefined ? 0 : parseDuration(options.defaultTtl, 'defaultTtl');
  const sweepIntervalMs =
    options.sweepIntervalMs === undefined ? 100 : positiveInteger(options.sweepIntervalMs, 'sweepIntervalMs', true);
  const maxSweepWork =
    options.maxSweepWork === undefined ? 10_000 : positiveInteger(options.maxSweepWork, 'maxSweepWork');
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw configError('clock: must have a now() method', 'clock');
  const nodeId = options.nodeId ?? 'local';
  if (typeof nodeId !== 'string' || nodeId.length === 0)
    throw configError('nodeId: must be a non-empty string', 'nodeId');
  if (options.onRemove !== undefined && typeof options.onRemove !== 'function') {
    throw configError('onRemove: must be a function', 'onRemove');
  }
  return Object.freeze({
    maxEntries,
    maxBytes,
    eviction,
    maxKeyBytes,
    maxValueBytes,
    defaultTtlMs,
    sweepIntervalMs,
    maxSweepWork,
    clock,
    nodeId,
    onRemove: options.onRemove,
  });
}
