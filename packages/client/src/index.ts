/**
 * @shoal/client: talk to a Shoal cluster from any Node.js process, with the
 * same cache, log and pub/sub API as an embedded node. Explicit named exports.
 *
 *   import { connect } from '@shoal/client';
 *   const shoal = await connect({ nodes: ['ws://127.0.0.1:7400'], token, timeout: 5000 });
 *   await shoal.cache.set('user:1', { name: 'Ada' }, { ttl: '5m' });
 *   await shoal.close();
 */
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
  ErrorCode,
  GetOrSetOptions,
  Loader,
  LogApi,
  LogEntry,
  NearCacheStats,
  PubSubApi,
  ScanOptions,
  ScanResult,
  SetOptions,
  StartFrom,
  TopicOptions,
} from '@shoal/protocol';
export { ERROR_CODES, isShoalError, ShoalError } from '@shoal/protocol';
export type { ConnectOptions, ResolvedConnectOptions } from './client-options.js';
export { type CacheCallOptions, type ReadOptions, RemoteCache, type TaggedSetOptions } from './remote-cache.js';
export { RemoteConsumer, type RemoteConsumerEventMap } from './remote-consumer.js';
export { RemoteLog } from './remote-log.js';
export { RemotePubSub, type Unsubscribe } from './remote-pubsub.js';
export {
  type ClientEventMap,
  type ClientStats,
  type ConnectionInfo,
  connect,
  type RequestOptions,
  ShoalClient,
} from './shoal-client.js';
