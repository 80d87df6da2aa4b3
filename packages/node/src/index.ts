/**
 * @shoal/node: the embeddable Shoal node. Explicit named exports only.
 */

export type { ErrorCode, GetOrSetOptions, Loader, NearCacheOptions, NearCacheStats } from '@shoal/protocol';
export {
  ERROR_CODES,
  isShoalError,
  NearCache,
  parseBytes,
  parseDuration,
  ShoalError,
  StreamTracker,
} from '@shoal/protocol';
export type { InvalidationStats } from './cache-features.js';
export type { CallOptions, InvalidationTargets, TaggedSetOptions } from './cluster/cluster-cache.js';
export { ClusterCache } from './cluster/cluster-cache.js';
export type { EvictionPolicy, EvictionPolicyName } from './eviction/eviction-policy.js';
export type { InvalidationEvent, NearReadReply, StreamPosition } from './invalidation/invalidation-source.js';
export type { ConsumedMessage, ConsumeOptions, ConsumerEventMap } from './log/consumer.js';
export { Consumer } from './log/consumer.js';
export type {
  IdempotencyCache,
  IdempotentHandler,
  IdempotentOptions,
  IdempotentStats,
} from './log/idempotent-consumer.js';
export { idempotent } from './log/idempotent-consumer.js';
export type { IteratedMessage } from './log/message-iterator.js';
export type { AppendReceipt, PartitionLag } from './log/message-log.js';
export { MessageLog } from './log/message-log.js';
export type { FlushResult, OutboxRelayOptions, RelayedMessage, RelayStats } from './log/outbox/outbox-relay.js';
export { OutboxRelay } from './log/outbox/outbox-relay.js';
export type { OutboxMessage, OutboxRow, OutboxStore } from './log/outbox/outbox-store.js';
export type { SqliteOutboxOptions } from './log/outbox/sqlite-outbox.js';
export { SqliteOutbox } from './log/outbox/sqlite-outbox.js';
export type { StartFrom } from './log/partition-replica.js';
export { PubSub } from './log/pubsub.js';
export type { AppendOptions, ResolvedTopicOptions, TopicOptions } from './log/topic-options.js';
export type { CheckResult, PreparedMessage, PrepareOptions, Transaction } from './log/transactions.js';
export { createEventLoopLagMonitor, type LagMonitor, noLagMonitor } from './membership/lag-monitor.js';
export { isLive, MEMBER_STATES, type Member, type MemberState } from './membership/member.js';
export type { MembershipEventMap } from './membership/member-list.js';
export { Membership } from './membership/membership.js';
export {
  defaultConfig,
  localConfig,
  type MembershipConfig,
  type MembershipConfigOptions,
  pushPullInterval,
  type ResolvedMembershipConfig,
  resolveMembershipConfig,
  retransmitLimit,
  type SuspicionTimeouts,
  suspicionTimeouts,
  wanConfig,
} from './membership/membership-config.js';
export type { MembershipInit, MembershipLogger } from './membership/membership-init.js';
export {
  type AckMessage,
  type AliveUpdate,
  type DeadUpdate,
  type GossipMessage,
  type LeftUpdate,
  type MembershipMessage,
  MembershipMessageKind,
  type MemberUpdate,
  type NackMessage,
  type PingMessage,
  type PingReqMessage,
  type PushPullMessage,
  type PushPullReplyMessage,
  type SuspectUpdate,
  validateMembershipMessage,
} from './membership/membership-messages.js';
export type { MembershipTransport } from './membership/membership-transport.js';
export { mathRandom, type Random, seededRandom } from './membership/random.js';
export {
  realScheduler,
  type SimEndpoint,
  SimNetwork,
  type SimNetworkOptions,
  SimNode,
  type SimScheduler,
} from './membership/sim-network.js';
export { type MembershipTimers, realTimers, type TimerHandle } from './membership/timers.js';
export { VirtualScheduler } from './membership/virtual-time.js';
export type { MemberInfo, NodeEventMap, PartitionTableInfo } from './node.js';
export { createNode, ShoalNode } from './node.js';
export type { NodeOptions, ResolvedNodeOptions } from './node-options.js';
export type { Freshness } from './readthrough/freshness.js';
export { freshnessOf, readableValue } from './readthrough/freshness.js';
export type { Consistency } from './replication/cache-ops.js';
export {
  type ComputeOwnersInput,
  type ComputeTableInput,
  capacityPerMember,
  checkPartitionCount,
  checkSamePartitionCount,
  computeOwners,
  createXxHash32,
  DEFAULT_PARTITION_COUNT,
  diffTables,
  type HashFunction,
  LOAD_SLACK_COPIES,
  LOAD_SLACK_SQRT,
  MAX_PARTITION_COUNT,
  MAX_REPLICAS,
  memberCaps,
  type OwnedPartition,
  type PartitionChange,
  Partitioner,
  type PartitionRole,
  PartitionTable,
  type PartitionTableInit,
  type PartitionTableWire,
  type RendezvousKey,
  rendezvousKey,
  rendezvousScore,
  type TableExpectation,
  XXHASH32_SEED,
} from './ring/index.js';
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
export { TagRegistry } from './tags/tag-registry.js';
export type { TagMarkResult } from './tags/tag-service.js';
export type { SnapshotHeader, SnapshotRecord, SnapshotScope } from './warmup/snapshot-format.js';
export { SNAPSHOT_FORMAT_VERSION } from './warmup/snapshot-format.js';
export type { ExportSnapshotOptions, SnapshotExportResult, SnapshotLoadResult } from './warmup/snapshots.js';
export type { WarmerEventMap, WarmerOptions, WarmerProgress } from './warmup/warmer.js';
export { Warmer } from './warmup/warmer.js';
