/**
 * `node.cache`: every LocalCache operation, async, for the whole cluster. Each
 * call finds its key's partition and primary in the current table and runs
 * there (locally, or as one message batched with everything else this tick
 * sends to that node). Topology changes are absorbed here: a retryable failure
 * (owner moved, node unreachable, not enough replicas yet) is retried against
 * the newest table until the call's timeout, then reported as a typed error.
 */

import type { LoadOutcome, LoadReply, NearCache } from '@shoal/protocol';
import {
  type CacheApi,
  type GetOrSetOptions,
  GetOrSetRunner,
  isShoalError,
  type Loader,
  ManagedValue,
  MessageKind,
  type ResolvedGetOrSetOptions,
  resolveGetOrSetOptions,
  ShoalError,
} from '@shoal/protocol';
import type { NearReadReply } from '../invalidation/invalidation-source.js';
import type { InvalidationSubscriber } from '../invalidation/invalidation-subscriber.js';
import type { ConsumedMessage, ConsumeOptions, Consumer } from '../log/consumer.js';
import type { MessageLog } from '../log/message-log.js';
import { freshnessOf, readableValue, unwrap } from '../readthrough/freshness.js';
import type { LoadCoordinator } from '../readthrough/load-coordinator.js';
import { CACHE_OPS, type CacheOpName, type Consistency, isCacheOp } from '../replication/cache-ops.js';
import type { ClusterView } from '../replication/cluster-view.js';
import { NOT_LOCAL, type Replicator } from '../replication/replicator.js';
import type { EntryKind, ScanOptions, ScanResult, SetOptions } from '../store/local-cache.js';
import { validateKey } from '../store/validation.js';
import { sizeOfValue } from '../store/value-size.js';
import { validateTags } from '../tags/tag-registry.js';
import type { TagMarkResult, TagService, VersionSource } from '../tags/tag-service.js';
import type { PeerTransport } from '../transport/peer-transport.js';

/** What the cache, the log and the invalidation stream share (wired by the node). */
export interface CacheFeatures {
  tags: TagService;
  versions: VersionSource;
  loads: LoadCoordinator;
  /** The node's near cache, when on; `hotOnly` keeps only keys the primary reports hot. */
  near?: { cache: NearCache; subscriber: InvalidationSubscriber; hotOnly: boolean };
  log: MessageLog;
  now: () => number;
}

/** Options of `set` beyond the store's: tags for invalidateTag / expireTag. */
export interface TaggedSetOptions extends SetOptions {
  tags?: string[];
}

/** What `invalidateOn`'s mapper returns for a message: keys, or keys and tags. */
export type InvalidationTargets = string | string[] | { keys?: string[]; tags?: string[] } | undefined;

/** Per-call options of cluster operations. */
export interface CallOptions {
  /** Owners that must take part (default: the node's readConsistency / writeConsistency). */
  consistency?: Consistency;
}

/** CacheOp body: [op, args, consistency | null, tableVersion, hops]. */
type CacheOpBody = [
  op: CacheOpName,
  args: unknown[],
  consistency: Consistency | null,
  tableVersion: number,
  hops: number,
];

/** Settings of the routing layer. */
export interface ClusterCacheOptions {
  /** Whole-call budget including retries, in ms. */
  requestTimeoutMs: number;
  /** Most forwards between nodes that disagree about the table. */
  maxHops: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Writes are refused while fewer members are alive (0 = off). */
  minClusterSize: number;
}

const RETRYABLE = new Set([
  'SHOAL_TRANSPORT_UNAVAILABLE',
  'SHOAL_TRANSPORT_TIMEOUT',
  'SHOAL_TRANSPORT_CLOSED',
  'SHOAL_CLUSTER_NOT_OWNER',
  'SHOAL_REPLICATION_QUORUM',
  'SHOAL_TRANSPORT_BACKPRESSURE',
]);

// a node's local scan cursor stays below 2^31 (slot indexes), so node index * 2^32 + cursor is exact
const NODE_CURSOR_SPAN = 2 ** 32;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The cluster-wide, async cache API of an embedded node. */
export class ClusterCache implements CacheApi {
  private closed = false;
  /** Read-through, tags, near cache: set once by the node before use. */
  features: CacheFeatures | undefined;
  private getOrSetRunner: GetOrSetRunner | undefined;

  constructor(
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    private readonly replicator: Replicator,
    private readonly options: ClusterCacheOptions,
    private readonly scanLocal: (options: ScanOptions) => ScanResult,
    /** Alive members sorted by id, for cluster-wide scans. */
    private readonly members: () => readonly { id: string; address: string }[],
  ) {
    transport.handle(MessageKind.CacheOp, (body) => this.receive(body));
    transport.handle(MessageKind.Scan, (body) => this.scanOwned(body));
  }

  get(key: string, options?: CallOptions): Promise<unknown> {
    const features = this.features;
    if (features === undefined) return this.run('get', [key], options);
    const near = features.near;
    if (near !== undefined && (options === undefined || options.consistency === undefined)) {
      const held = near.cache.lookup(key);
      if (held !== undefined) {
        // the hit path: bare values need no judging (only tagged and read-through values can go stale)
        if (typeof held !== 'object' || !(held instanceof ManagedValue)) return Promise.resolve(held);
        if (freshnessOf(held, features.tags.registry, features.now()) === 'fresh') return Promise.resolve(held.value);
      }
      return this.nearGet(key, near);
    }
    if (options === undefined || options.consistency === undefined) {
      let now: unknown;
      try {
        now = this.getNow(key);
      } catch (err) {
        return Promise.reject(err);
      }
      if (now !== NOT_LOCAL) return Promise.resolve(now);
    }
    return this.run('get', [key], options).then((stored) =>
      readableValue(stored, features.tags.registry, features.now),
    );
  }

  /**
   * @internal A plain `get` answered synchronously when this node is the
   * key's primary and the read needs nothing but its own copy (no near cache,
   * partition settled, read consistency 'one' or a single owner); NOT_LOCAL
   * otherwise. Throws SHOAL_KEY_INVALID / SHOAL_NODE_CLOSED. Most gets at a
   * primary take this path: no promise chain, no async frames (those were a
   * third of the node's CPU per get with 64 client calls in flight).
   */
  getNow(key: string): unknown {
    const features = this.features;
    if (features === undefined || features.near !== undefined) return NOT_LOCAL;
    const observe = this.onCall;
    const start = observe === undefined ? 0 : performance.now();
    try {
      if (this.closed) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node has been closed');
      validateKey(key, this.options.maxKeyBytes);
    } catch (err) {
      // counted like a failed call of the full path
      observe?.('get', isShoalError(err) ? err.code : 'error', (performance.now() - start) / 1000);
      throw err;
    }
    const stored = this.replicator.readLocal(key);
    if (stored === NOT_LOCAL) return NOT_LOCAL;
    observe?.('get', 'ok', (performance.now() - start) / 1000);
    return readableValue(stored, features.tags.registry, features.now);
  }
  set(key: string, value: unknown, options?: TaggedSetOptions & CallOptions): Promise<boolean> {
    this.checkValue(value);
    const { consistency, tags, ...setOptions } = options ?? {};
    let stored = value;
    if (tags !== undefined && tags.length > 0) {
      validateTags(tags);
      const features = this.requireFeatures();
      stored = new ManagedValue(value, features.versions.nextVersion(), 0, 0, [...tags]);
    }
    return this.run('set', [key, stored, setOptions], { consistency }) as Promise<boolean>;
  }

  /**
   * Read-through with cluster-wide single flight: returns the key's value, or
   * runs `loader` (on one caller in the whole cluster at a time) and stores
   * what it returns. See GetOrSetOptions for ttl, grace and timeouts.
   */
  getOrSet<T = unknown>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T | undefined> {
    validateKey(key, this.options.maxKeyBytes);
    if (typeof loader !== 'function')
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'getOrSet needs a loader function');
    const resolved = resolveGetOrSetOptions(options);
    const features = this.requireFeatures();
    const held = features.near?.cache.lookup(key);
    if (held !== undefined && freshnessOf(held, features.tags.registry, features.now()) === 'fresh') {
      return Promise.resolve(unwrap(held) as T);
    }
    this.getOrSetRunner ??= new GetOrSetRunner(
      {
        load: (k, leaseMs, waitMs) => this.loadThroughNear(k, leaseMs, waitMs),
        done: (k, token, outcome, payload, o) => this.reportLoad(k, token, outcome, payload, o),
        checkValue: (value) => this.checkValue(value),
      },
      this.options.requestTimeoutMs,
    );
    return this.getOrSetRunner.run(key, loader, resolved);
  }

  /** @internal the client endpoint: a read-through lease request at the key's primary (routed, retried). */
  leaseLoad(key: string, leaseMs: number, waitMs: number): Promise<LoadReply> {
    validateKey(key, this.options.maxKeyBytes);
    return this.routed(key, 'getOrSet', () => this.loadAtPrimary(key, leaseMs, waitMs));
  }

  /** @internal the client endpoint: a lease holder's report (the value is checked like any written value). */
  async leaseDone(
    key: string,
    token: number,
    outcome: LoadOutcome,
    payload: unknown,
    options: ResolvedGetOrSetOptions,
  ): Promise<void> {
    validateKey(key, this.options.maxKeyBytes);
    if (outcome === 'value') this.checkValue(payload);
    await this.reportLoad(key, token, outcome, payload, options);
  }

  /** A lease holder's outcome to the key's primary (routed, retried); the near copy, if any, is dropped. */
  private async reportLoad(
    key: string,
    token: number,
    outcome: LoadOutcome,
    payload: unknown,
    options: ResolvedGetOrSetOptions,
  ): Promise<void> {
    await this.routed(key, 'getOrSet', () => this.doneAtPrimary(key, token, outcome, payload, options));
    this.features?.near?.cache.invalidate(key);
  }

  /** Loader calls this node made for getOrSet. */
  get loaderCalls(): number {
    return this.getOrSetRunner?.loaderCalls ?? 0;
  }

  /** Deletes every value tagged `tag`, on every node (values written after this call are unaffected). */
  invalidateTag(tag: string): Promise<TagMarkResult> {
    return this.requireFeatures().tags.mark(tag, 'delete');
  }

  /** Marks every value tagged `tag` stale: getOrSet refreshes it, serving it meanwhile within its grace. */
  expireTag(tag: string): Promise<TagMarkResult> {
    return this.requireFeatures().tags.mark(tag, 'expire');
  }

  /**
   * Event-driven invalidation: consumes `topic` in a consumer group (one
   * delivery per message across the cluster) and deletes the keys, and
   * invalidates the tags, that `map` returns for each message.
   */
  invalidateOn(
    topic: string,
    map: (message: ConsumedMessage) => InvalidationTargets | Promise<InvalidationTargets>,
    options: Partial<ConsumeOptions> = {},
  ): Consumer {
    if (typeof map !== 'function')
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'invalidateOn needs a mapping function');
    const features = this.requireFeatures();
    return features.log.consume(
      topic,
      { from: 'latest', ...options, group: options.group ?? `shoal-invalidate:${topic}` },
      async (message) => {
        const targets = await map(message);
        if (targets === undefined) return;
        const keys = typeof targets === 'string' ? [targets] : Array.isArray(targets) ? targets : (targets.keys ?? []);
        const tags = typeof targets === 'object' && !Array.isArray(targets) ? (targets.tags ?? []) : [];
        await Promise.all([...keys.map((key) => this.delete(key)), ...tags.map((tag) => this.invalidateTag(tag))]);
      },
    );
  }
  has(key: string, options?: CallOptions): Promise<boolean> {
    return this.run('has', [key], options) as Promise<boolean>;
  }
  delete(key: string, options?: CallOptions): Promise<boolean> {
    return this.run('delete', [key], options) as Promise<boolean>;
  }
  expire(key: string, ttl: number | string): Promise<boolean> {
    return this.run('expire', [key, ttl]) as Promise<boolean>;
  }
  persist(key: string): Promise<boolean> {
    return this.run('persist', [key]) as Promise<boolean>;
  }
  ttl(key: string): Promise<number> {
    return this.run('ttl', [key]) as Promise<number>;
  }
  type(key: string): Promise<EntryKind | undefined> {
    return this.run('type', [key]) as Promise<EntryKind | undefined>;
  }
  incr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return this.run('incr', [key, by], options) as Promise<number>;
  }
  decr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return this.run('decr', [key, by], options) as Promise<number>;
  }
  hset(key: string, fieldOrFields: string | Record<string, unknown>, value?: unknown): Promise<number> {
    if (typeof fieldOrFields === 'string') this.checkValue(value);
    else for (const v of Object.values(fieldOrFields ?? {})) this.checkValue(v);
    return this.run(
      'hset',
      typeof fieldOrFields === 'string' ? [key, fieldOrFields, value] : [key, fieldOrFields],
    ) as Promise<number>;
  }
  hget(key: string, field: string): Promise<unknown> {
    return this.run('hget', [key, field]);
  }
  hgetall(key: string): Promise<Record<string, unknown>> {
    return this.run('hgetall', [key]) as Promise<Record<string, unknown>>;
  }
  hlen(key: string): Promise<number> {
    return this.run('hlen', [key]) as Promise<number>;
  }
  hdel(key: string, ...fields: string[]): Promise<number> {
    return this.run('hdel', [key, ...fields]) as Promise<number>;
  }
  lpush(key: string, ...values: unknown[]): Promise<number> {
    for (const v of values) this.checkValue(v);
    return this.run('lpush', [key, ...values]) as Promise<number>;
  }
  rpush(key: string, ...values: unknown[]): Promise<number> {
    for (const v of values) this.checkValue(v);
    return this.run('rpush', [key, ...values]) as Promise<number>;
  }
  lpop(key: string): Promise<unknown> {
    return this.run('lpop', [key]);
  }
  rpop(key: string): Promise<unknown> {
    return this.run('rpop', [key]);
  }
  lrange(key: string, start: number, stop: number): Promise<unknown[]> {
    return this.run('lrange', [key, start, stop]) as Promise<unknown[]>;
  }
  llen(key: string): Promise<number> {
    return this.run('llen', [key]) as Promise<number>;
  }

  /** Values of many keys (undefined for missing ones, or ones holding a hash or list); one frame per owner. */
  async mget(keys: readonly string[], options?: CallOptions): Promise<unknown[]> {
    return Promise.all(
      keys.map((key) =>
        this.get(key, options).catch((err: unknown) => {
          if (isShoalError(err, 'SHOAL_STORE_WRONG_TYPE')) return undefined;
          throw err;
        }),
      ),
    );
  }

  /** Sets many keys; every key and value is validated before the first write. Not atomic across partitions. */
  async mset(
    entries: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    options?: SetOptions & CallOptions,
  ): Promise<void> {
    const list: (readonly [string, unknown])[] =
      Symbol.iterator in Object(entries)
        ? [...(entries as Iterable<readonly [string, unknown]>)]
        : Object.entries(entries as Record<string, unknown>);
    for (const [key, value] of list) {
      validateKey(key, this.options.maxKeyBytes);
      this.checkValue(value);
    }
    await Promise.all(list.map(([key, value]) => this.set(key, value, options)));
  }

  /**
   * Pages through the keys of the whole cluster, node by node: each node lists
   * the keys it is primary for, so a stable key is returned once. The cursor
   * is opaque; 0 starts and 0 ends. Keys moved by a rebalance during a scan
   * may be missed or repeated, as with Redis Cluster.
   */
  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const cursor = options.cursor ?? 0;
    if (!Number.isSafeInteger(cursor) || cursor < 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `scan cursor ${String(cursor)} is not a cursor scan returned`);
    }
    const nodes = this.members();
    let index = Math.floor(cursor / NODE_CURSOR_SPAN);
    let local = cursor % NODE_CURSOR_SPAN;
    const body = [local, options.match ?? null, options.prefix ?? null, options.count ?? 100];
    while (index < nodes.length) {
      const node = nodes[index] as { id: string; address: string };
      body[0] = local;
      const page = (
        node.id === this.view.selfId
          ? this.scanOwned(body)
          : await this.transport.request(node.address, MessageKind.Scan, body, this.options.requestTimeoutMs)
      ) as ScanResult;
      if (page.cursor !== 0) return { cursor: index * NODE_CURSOR_SPAN + page.cursor, keys: page.keys };
      if (page.keys.length > 0) {
        return { cursor: index + 1 < nodes.length ? (index + 1) * NODE_CURSOR_SPAN : 0, keys: page.keys };
      }
      index++;
      local = 0;
    }
    return { cursor: 0, keys: [] };
  }

  /** A page of the local store, keeping only keys this node is primary for. */
  private scanOwned(body: unknown): ScanResult {
    if (!Array.isArray(body) || body.length !== 4)
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'scan body is [cursor, match, prefix, count]');
    const [cursor, match, prefix, count] = body as [number, string | null, string | null, number];
    const options: ScanOptions = { cursor, count };
    if (match !== null) options.match = match;
    if (prefix !== null) options.prefix = prefix;
    const page = this.scanLocal(options);
    const keys = page.keys.filter((key) => this.view.ownersOf(this.view.partitionOf(key))[0] === this.view.selfId);
    return { cursor: page.cursor, keys };
  }

  /** Refuses further calls (the node is closing). */
  close(): void {
    this.closed = true;
  }

  private checkValue(value: unknown): void {
    sizeOfValue(value, this.options.maxValueBytes);
  }

  /** Told about every finished call (metrics): operation, whether it succeeded (or its error code), seconds. */
  onCall: ((op: string, result: string, seconds: number) => void) | undefined;

  /** Runs one operation at its primary, retrying retryable failures until the timeout. Never throws: rejects. */
  private run(op: CacheOpName, args: unknown[], options?: CallOptions): Promise<unknown> {
    const observe = this.onCall;
    if (observe === undefined) return this.runUntimed(op, args, options);
    const start = performance.now();
    return this.runUntimed(op, args, options).then(
      (value) => {
        observe(op, 'ok', (performance.now() - start) / 1000);
        return value;
      },
      (err: unknown) => {
        observe(op, isShoalError(err) ? err.code : 'error', (performance.now() - start) / 1000);
        throw err;
      },
    );
  }

  private runUntimed(op: CacheOpName, args: unknown[], options?: CallOptions): Promise<unknown> {
    const near = this.features?.near?.cache;
    if (near === undefined || !CACHE_OPS[op].write) return this.runRouted(op, args, options);
    return this.runDroppingNear(near, op, args, options);
  }

  private async runDroppingNear(
    near: NearCache,
    op: CacheOpName,
    args: unknown[],
    options?: CallOptions,
  ): Promise<unknown> {
    // dropped before and after: a near read that raced with this write keeps nothing older than it
    near.invalidate(args[0] as string);
    try {
      return await this.runRouted(op, args, options);
    } finally {
      near.invalidate(args[0] as string);
    }
  }

  /**
   * Checks the call, then runs it: at once through the replicator when this
   * node is the key's primary (no async frames on the common path: they cost
   * a fifth of the node's CPU per call at 64 in flight), else, or after a
   * retryable failure, through the retry loop of `routed`.
   */
  private runRouted(op: CacheOpName, args: unknown[], options?: CallOptions): Promise<unknown> {
    const key = args[0] as string;
    const consistency = options?.consistency ?? null;
    try {
      if (this.closed) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node has been closed');
      validateKey(key, this.options.maxKeyBytes);
      const min = this.options.minClusterSize;
      if (min > 0 && CACHE_OPS[op].write && this.view.aliveCount < min) {
        // refused here as well as at the primary: a node cut off from the majority must not write anywhere
        throw new ShoalError(
          'SHOAL_CLUSTER_TOO_SMALL',
          `this node sees ${this.view.aliveCount} alive members, fewer than minClusterSize ${min}`,
          { alive: this.view.aliveCount, minClusterSize: min },
        );
      }
      if (this.view.ownersOf(this.view.partitionOf(key))[0] === this.view.selfId) {
        // the retry budget starts at the first failure: a local try takes microseconds, and reading
        // the clock up front for every call costs more than that on a VM
        return this.replicator.execute(op, args, consistency ?? undefined).catch((err: unknown) => {
          if (!isShoalError(err) || !RETRYABLE.has(err.code)) throw err;
          const deadline = Date.now() + this.options.requestTimeoutMs;
          return this.routed(key, op, (t) => this.attempt(op, args, consistency, t, 0), deadline, err);
        });
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.routed(key, op, (t) => this.attempt(op, args, consistency, t, 0));
  }

  /**
   * Runs `attempt` (one try at the key's primary), retrying retryable failures
   * until the call's deadline. `failed`: the retryable error of a first try
   * already made, so the loop starts with its backoff.
   */
  private async routed<T>(
    key: string,
    op: string,
    attempt: (timeoutMs: number) => Promise<T>,
    deadline = Date.now() + this.options.requestTimeoutMs,
    failed?: ShoalError,
  ): Promise<T> {
    let backoff = 10;
    let lastError: unknown = failed;
    for (let tried = failed !== undefined; ; tried = false) {
      if (!tried) {
        if (this.closed) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node has been closed');
        try {
          return await attempt(deadline - Date.now());
        } catch (err) {
          if (!isShoalError(err) || !RETRYABLE.has(err.code)) throw err;
          lastError = err;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new ShoalError(
          'SHOAL_REQUEST_TIMEOUT',
          `${op} ${JSON.stringify(key)} did not complete within ${this.options.requestTimeoutMs} ms: ${(lastError as Error).message}`,
          { op, key, lastCode: (lastError as ShoalError).code },
          { cause: lastError },
        );
      }
      await sleep(Math.min(backoff, left));
      backoff = Math.min(backoff * 2, 250);
    }
  }

  private attempt(
    op: CacheOpName,
    args: unknown[],
    consistency: Consistency | null,
    timeoutMs: number,
    hops: number,
  ): Promise<unknown> {
    const key = args[0] as string;
    const partition = this.view.partitionOf(key);
    const owners = this.view.ownersOf(partition);
    const primary = owners[0];
    if (primary === undefined)
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', 'no owner known for the partition', { partition });
    if (primary === this.view.selfId) return this.replicator.execute(op, args, consistency ?? undefined);
    const address = this.view.addressOf(primary);
    if (address === undefined) {
      throw new ShoalError(
        'SHOAL_TRANSPORT_UNAVAILABLE',
        `primary ${primary} of partition ${partition} has no address`,
        { partition },
      );
    }
    const body: CacheOpBody = [op, args, consistency, this.view.tableVersion, hops];
    return this.transport.request(address, MessageKind.CacheOp, body, Math.max(1, timeoutMs));
  }

  /** The primary of `key`'s partition: this node (undefined) or its address. */
  private primaryAddress(key: string): { partition: number; address: string | undefined } {
    const partition = this.view.partitionOf(key);
    const primary = this.view.ownersOf(partition)[0];
    if (primary === undefined)
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', 'no owner known for the partition', { partition });
    if (primary === this.view.selfId) return { partition, address: undefined };
    const address = this.view.addressOf(primary);
    if (address === undefined) {
      throw new ShoalError(
        'SHOAL_TRANSPORT_UNAVAILABLE',
        `primary ${primary} of partition ${partition} has no address`,
        {
          partition,
        },
      );
    }
    return { partition, address };
  }

  /**
   * A Load at the primary; with a near cache, a fresh reply is kept like a
   * near read's (reserved before the request, stream position checked).
   */
  private async loadThroughNear(key: string, leaseMs: number, waitMs: number): Promise<LoadReply> {
    const near = this.features?.near;
    if (near === undefined || near.hotOnly) {
      return this.routed(key, 'getOrSet', () => this.loadAtPrimary(key, leaseMs, waitMs));
    }
    const partition = this.view.partitionOf(key);
    const token = near.cache.reserve(key, partition);
    let reply: LoadReply;
    try {
      reply = await this.routed(key, 'getOrSet', () => this.loadAtPrimary(key, leaseMs, waitMs));
    } catch (err) {
      near.cache.release(key, token);
      throw err;
    }
    if (reply[0] === 'fresh' && reply.length === 6 && reply[5] !== this.view.selfId) {
      const [, stored, expiresAt, epoch, seq, nodeId] = reply;
      const address = this.view.addressOf(nodeId);
      if (address !== undefined && near.subscriber.accept(partition, address, epoch, seq)) {
        near.cache.complete(key, token, stored, partition, expiresAt);
        return reply;
      }
    }
    near.cache.release(key, token);
    return reply;
  }

  private loadAtPrimary(key: string, leaseMs: number, waitMs: number): Promise<LoadReply> {
    const { address } = this.primaryAddress(key);
    const loads = this.requireFeatures().loads;
    if (address === undefined) return loads.load([key, leaseMs, waitMs]);
    return this.transport.request(
      address,
      MessageKind.Load,
      [key, leaseMs, waitMs],
      waitMs + this.options.requestTimeoutMs,
    ) as Promise<LoadReply>;
  }

  private async doneAtPrimary(
    key: string,
    token: number,
    outcome: LoadOutcome,
    payload: unknown,
    options: ResolvedGetOrSetOptions,
  ): Promise<void> {
    const { address } = this.primaryAddress(key);
    const body = [
      key,
      token,
      outcome,
      outcome === 'none' ? null : payload,
      options.ttlMs,
      options.graceMs,
      options.tags,
    ];
    if (address === undefined) await this.requireFeatures().loads.done(body);
    else await this.transport.request(address, MessageKind.LoadDone, body, this.options.requestTimeoutMs);
  }

  /**
   * A read through the near cache: reserve, read at the primary with the
   * stream position, keep the reply only if the reservation and the epoch
   * still hold. Anything unusual falls back to the plain routed read.
   */
  private async nearGet(key: string, near: NonNullable<CacheFeatures['near']>): Promise<unknown> {
    const features = this.features as CacheFeatures;
    validateKey(key, this.options.maxKeyBytes);
    const { partition, address } = this.primaryAddress(key);
    if (address === undefined || !near.subscriber.isSubscribed(address)) {
      const stored = await this.run('get', [key]);
      return readableValue(stored, features.tags.registry, features.now);
    }
    const token = near.cache.reserve(key, partition);
    let reply: NearReadReply;
    try {
      reply = (await this.transport.request(
        address,
        MessageKind.NearRead,
        [key],
        this.options.requestTimeoutMs,
      )) as NearReadReply;
    } catch (err) {
      near.cache.release(key, token);
      if (isShoalError(err) && (RETRYABLE.has(err.code) || err.code === 'SHOAL_STORE_WRONG_TYPE')) {
        const stored = await this.run('get', [key]);
        return readableValue(stored, features.tags.registry, features.now);
      }
      throw err;
    }
    const [stored, expiresAt, epoch, seq, hot] = reply;
    if ((!near.hotOnly || hot) && near.subscriber.accept(partition, address, epoch, seq)) {
      near.cache.complete(key, token, stored, partition, expiresAt);
    } else {
      near.cache.release(key, token);
    }
    return readableValue(stored, features.tags.registry, features.now);
  }

  private requireFeatures(): CacheFeatures {
    if (this.features === undefined) {
      throw new ShoalError('SHOAL_NODE_CLOSED', 'read-through and tags need a started node');
    }
    return this.features;
  }

  /** A CacheOp from another node: run it if this node is the primary, else forward (bounded hops). */
  private receive(body: unknown): Promise<unknown> {
    if (!Array.isArray(body) || body.length !== 5 || !isCacheOp(body[0]) || !Array.isArray(body[1])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a cache op is [op, args, consistency, tableVersion, hops]');
    }
    const [op, args, consistency, , hops] = body as CacheOpBody;
    if (typeof args[0] !== 'string') throw new ShoalError('SHOAL_KEY_INVALID', 'key must be a string');
    if (consistency !== null && consistency !== 'one' && consistency !== 'quorum' && consistency !== 'all') {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `consistency ${String(consistency)} is not one, quorum or all`);
    }
    const partition = this.view.partitionOf(args[0]);
    const owners = this.view.ownersOf(partition);
    if (owners[0] === this.view.selfId) return this.replicator.execute(op, args, consistency ?? undefined);
    if (typeof hops !== 'number' || hops >= this.options.maxHops) {
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', `not the primary of partition ${partition}`, {
        partition,
        owners: [...owners],
        tableVersion: this.view.tableVersion,
      });
    }
    return this.attempt(op, args, consistency, this.options.requestTimeoutMs, hops + 1);
  }
}
