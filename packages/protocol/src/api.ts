/**
 * The API an application codes against, shared by the embedded node
 * (`node.cache`, `node.log`, `node.pubsub`) and the client (`shoal.cache`, ...):
 * a function written against `CacheApi` runs unchanged on either. Only types
 * live here; each side implements them (the node's ClusterCache declares
 * `implements CacheApi`, the client's RemoteCache too).
 */

/** Owners that must take part in a call: one, a majority, or all of them. */
export type Consistency = 'one' | 'quorum' | 'all';

/** What a key holds. */
export type EntryKind = 'value' | 'hash' | 'list';

/** Options every cache call accepts. */
export interface CallOptions {
  /** Owners that must take part (default: the node's readConsistency / writeConsistency). */
  consistency?: Consistency;
}

/** Options of `set`. */
export interface SetOptions {
  /** Time to live in ms or a duration string ('30s'). Default: the cache's defaultTtl, else none. */
  ttl?: number | string;
  /** Only set when the key does not exist. */
  nx?: boolean;
  /** Only set when the key exists. */
  xx?: boolean;
  /** Keep the key's current TTL instead of replacing it. */
  keepTtl?: boolean;
}

/** Options of `scan`. */
export interface ScanOptions {
  /** 0 to start; then the cursor the previous call returned. */
  cursor?: number;
  /** Redis-style glob the key must match ('user:*'). */
  match?: string;
  /** Prefix the key must start with. */
  prefix?: string;
  /** Keys wanted per call (a hint, as in Redis). Default 100. */
  count?: number;
}

/** One page of a scan. `cursor` 0 means the scan is complete. */
export interface ScanResult {
  cursor: number;
  keys: string[];
}

/**
 * The cluster-wide cache: every single-key operation of the store, async,
 * plus multi-key helpers and a cluster-wide scan. `V` is the type of stored
 * values (unknown unless the application narrows it).
 */
export interface CacheApi<V = unknown> {
  get(key: string, options?: CallOptions): Promise<V | undefined>;
  set(key: string, value: V, options?: SetOptions & CallOptions): Promise<boolean>;
  has(key: string, options?: CallOptions): Promise<boolean>;
  delete(key: string, options?: CallOptions): Promise<boolean>;
  expire(key: string, ttl: number | string): Promise<boolean>;
  persist(key: string): Promise<boolean>;
  /** Remaining time to live in ms; -1 without a TTL, -2 when the key does not exist. */
  ttl(key: string): Promise<number>;
  type(key: string): Promise<EntryKind | undefined>;
  incr(key: string, by?: number, options?: CallOptions): Promise<number>;
  decr(key: string, by?: number, options?: CallOptions): Promise<number>;
  hset(key: string, fieldOrFields: string | Record<string, V>, value?: V): Promise<number>;
  hget(key: string, field: string): Promise<V | undefined>;
  hgetall(key: string): Promise<Record<string, V>>;
  hlen(key: string): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  lpush(key: string, ...values: V[]): Promise<number>;
  rpush(key: string, ...values: V[]): Promise<number>;
  lpop(key: string): Promise<V | undefined>;
  rpop(key: string): Promise<V | undefined>;
  lrange(key: string, start: number, stop: number): Promise<V[]>;
  llen(key: string): Promise<number>;
  /** Values of many keys, in order (undefined for missing keys and keys holding a hash or list). */
  mget(keys: readonly string[], options?: CallOptions): Promise<(V | undefined)[]>;
  /** Sets many keys; not atomic across partitions. */
  mset(entries: Record<string, V> | Iterable<readonly [string, V]>, options?: SetOptions & CallOptions): Promise<void>;
  /** Pages through the keys of the whole cluster; cursor 0 starts and 0 ends. */
  scan(options?: ScanOptions): Promise<ScanResult>;
}

// ------------------------------------------------------------------ log

/** Where a consumer group starts on a partition it never read. */
export type StartFrom = 'earliest' | 'latest' | number | { timestamp: number };

/** Options of one append. */
export interface AppendOptions {
  /** Partitioning key: same key, same partition, same order. */
  key?: string;
  /** Producer message id: an append retried with the same id returns the first append's offset. */
  id?: string;
  /** String headers carried with the message. */
  headers?: Record<string, string>;
  /** Copies that must hold the message before the call returns. Default 'quorum'. */
  acks?: 'leader' | 'quorum';
}

/** Where an appended message landed. */
export interface AppendReceipt {
  partition: number;
  offset: number;
  /** True when the id had been appended before (a retried append): offset is the first one's. */
  duplicate: boolean;
}

/** Options of a topic, fixed when it is created. */
export interface TopicOptions {
  /** Partitions; messages with the same key go to the same partition and keep their order. Default 8. */
  partitions?: number;
  /** Most messages kept per partition. Default: unbounded (other limits apply). */
  maxMessages?: number;
  /** Most bytes kept per partition, bytes or size string. Default '256mb'. */
  maxBytes?: number | string;
  /** Oldest message kept, ms or duration string. Default '7d'. */
  maxAge?: number | string;
  /** Largest message (value + key + headers), bytes or size string. Default '1mb'. */
  maxMessageBytes?: number | string;
  /** How long a producer message id is remembered to drop retried appends, ms or duration string. Default '10m'. */
  dedupeWindow?: number | string;
}

/** A stored message as `read` returns it. */
export interface LogEntry<V = unknown> {
  readonly offset: number;
  readonly timestamp: number;
  readonly key?: string;
  readonly id?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly value: V;
}

/** Options of `consume`. */
export interface ConsumeOptions {
  /** Consumer group: each message goes to one member of it. */
  group: string;
  /** Where the group starts the first time it reads a partition. Default 'latest'. */
  from?: StartFrom;
  /** Handlers running at once, across partitions. Default 16. */
  concurrency?: number;
  /** Lease: a message not acked within this many ms is redelivered. Default 30000. */
  ackTimeoutMs?: number;
  /** Deliveries before a message goes to `<topic>.dlq`. Default 5. */
  maxDeliveries?: number;
  /** Unacked messages per partition before delivery pauses (a 'paused' event says so). Default 1000. */
  maxUnacked?: number;
}

/** What a consumer's handler receives. */
export interface ConsumedMessage<V = unknown> {
  value: V;
  key: string | undefined;
  id: string | undefined;
  headers: Readonly<Record<string, string>>;
  partition: number;
  offset: number;
  timestamp: number;
  /** 1 on the first delivery. */
  deliveries: number;
  /** Redeliver after `delayMs` (default: the group's backoff) instead of acking when the handler returns. */
  nack(delayMs?: number): void;
  /** A long handler keeps the message: pushes its lease `ms` further (bounded by the group's maximum lease). */
  extend(ms: number): Promise<void>;
}

/** A running consumer group member. */
export interface ConsumerHandle {
  /** Messages handled, acked and nacked by this member. */
  readonly counters: { handled: number; acked: number; nacked: number };
  /** Stops fetching, lets running handlers finish and sends their acks. Safe twice. */
  close(): Promise<void>;
}

/** The durable message log. */
export interface LogApi<V = unknown> {
  createTopic(topic: string, options?: TopicOptions): Promise<unknown>;
  append(topic: string, value: V, options?: AppendOptions): Promise<AppendReceipt>;
  read(topic: string, partition: number, fromOffset: number, maxMessages?: number): Promise<readonly LogEntry<V>[]>;
  /** Handler success acks, a throw or `nack` redelivers, as in the embedded API. */
  consume(topic: string, options: ConsumeOptions, handler: (message: ConsumedMessage<V>) => unknown): ConsumerHandle;
}

// ------------------------------------------------------------------ pub/sub

/** Ephemeral, at-most-once publish/subscribe. */
export interface PubSubApi<V = unknown> {
  /** Resolves with the number of nodes the message reached. */
  publish(channel: string, message: V): Promise<number>;
  /** Subscribes to a channel or glob pattern; returns the unsubscribe function. */
  subscribe(channelOrPattern: string, handler: (message: V, channel: string) => void): () => void;
}
