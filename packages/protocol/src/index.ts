/** Shared types, wire protocol and error registry of Shoal. */

export type {
  AppendOptions,
  AppendReceipt,
  CacheApi,
  CallOptions,
  Consistency,
  ConsumedMessage,
  ConsumeOptions,
  ConsumerHandle,
  EntryKind,
  LogApi,
  LogEntry,
  PubSubApi,
  ScanOptions,
  ScanResult,
  SetOptions,
  StartFrom,
  TopicOptions,
} from './api.js';
export { CACHE_OPS, type CacheOpName, type CacheOpSpec, isCacheOp } from './cache-ops.js';
export { CoarseClock } from './coarse-clock.js';
export type { GroupSettings } from './consume-options.js';
export { resolveConsumeOptions } from './consume-options.js';
export type { ErrorCode, ErrorSpec } from './errors.js';
export { ERROR_CODES, errorFromWire, isShoalError, ShoalError } from './errors.js';
export { FrameOutbox, type FrameSink } from './frame-outbox.js';
export { MANAGED_VALUE_EXTENSION, ManagedValue } from './managed-value.js';
export type { NearCacheOptions, NearCacheStats } from './near/near-cache.js';
export { NearCache } from './near/near-cache.js';
export { StreamTracker } from './near/stream-tracker.js';
export type { InvalidationEvent, NearReadReply, StreamPosition, SubscribeReply } from './near/stream-types.js';
export { isInvalidationEvent } from './near/stream-types.js';
export { hashKeyForPartition, partitionOf, xxhash32Bytes } from './partition.js';
export type {
  GetOrSetOptions,
  Loader,
  LoadOutcome,
  LoadReply,
  LoadTransport,
  ResolvedGetOrSetOptions,
} from './read-through.js';
export { GetOrSetRunner, resolveGetOrSetOptions } from './read-through.js';
export { MAX_TAG_LENGTH, MAX_TAGS_PER_VALUE, validateTag, validateTags } from './tags.js';
export { formatBytes, parseBytes, parseDuration } from './units.js';
export type { WireMessage } from './wire.js';
export {
  DialMask,
  decodeFrame,
  EAGER_FLUSH_MESSAGES,
  encodeFrame,
  MessageKind,
  ZERO_MASK_FROM_BYTES,
} from './wire.js';
