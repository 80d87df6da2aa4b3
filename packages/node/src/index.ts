/**
 * @shoal/node: the embeddable Shoal node. Explicit named exports only.
 */

export type { ErrorCode } from '@shoal/protocol';
export { ERROR_CODES, isShoalError, parseBytes, parseDuration, ShoalError } from '@shoal/protocol';
export type { EvictionPolicy, EvictionPolicyName } from './eviction/eviction-policy.js';
export { type Clock, ManualClock, systemClock } from './store/clock.js';
export { compareVersions, HybridClock, VERSION_EPOCH_MS, versionTimeMs } from './store/hybrid-clock.js';
export type { CacheStats, EntryKind, EntryRecord, ScanOptions, ScanResult, SetOptions } from './store/local-cache.js';
export { LocalCache } from './store/local-cache.js';
export type {
  LocalCacheOptions,
  RemovalListener,
  RemovalReason,
  ResolvedLocalCacheOptions,
} from './store/local-cache-options.js';
