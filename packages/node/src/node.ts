/**
 * A Shoal node: composes the store, ring, membership, transport, replication
 * and routing into one object. `createNode` listens on one port (HTTP health
 * and the `/peer` WebSocket endpoint), joins through the seeds, and keeps the
 * partition table in step with membership: every change of the live member set
 * recomputes the owners of every partition (the same pure function on every
 * node) and hands the difference to the rebalancer.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { NearCache } from '@shoal/protocol';
import { isShoalError, MessageKind, ShoalError } from '@shoal/protocol';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { type InvalidationStats, NodeCacheFeatures } from './cache-features.js';
import { ClusterCache } from './cluster/cluster-cache.js';
import type { InvalidationSource } from './invalidation/invalidation-source.js';
import { MessageLog } from './log/message-log.js';
import { PubSub } from './log/pubsub.js';
import { isLive, type Member, type MemberState } from './membership/member.js';
import { Membership } from './membership/membership.js';
import { localConfig, type MembershipConfigOptions, wanConfig } from './membership/membership-config.js';
import { type MembershipMessage, validateMembershipMessage } from './membership/membership-messages.js';
import { type NodeOptions, type ResolvedNodeOptions, resolveNodeOptions } from './node-options.js';
import { AntiEntropy } from './replication/anti-entropy.js';
import type { ClusterView } from './replication/cluster-view.js';
import { Rebalancer } from './replication/rebalancer.js';
import { ReplicaStore } from './replication/replica-store.js';
import { Replicator } from './replication/replicator.js';
import { computeOwners } from './ring/compute-owners.js';
import { createXxHash32, type HashFunction } from './ring/hash.js';
import { Partitioner } from './ring/partitioner.js';
import { ClientEndpoint } from './server/client-endpoint.js';
import { createHttpServer } from './server/http-server.js';
import { createNodeMetrics } from './server/node-metrics.js';
import { readinessOf } from './server/readiness.js';
import { type CacheStats, LocalCache } from './store/local-cache.js';
import type { TagRegistry } from './tags/tag-registry.js';
import { PeerTransport } from './transport/peer-transport.js';
import {
  type ExportSnapshotOptions,
  type SnapshotExportResult,
  type SnapshotLoadResult,
  Snapshots,
} from './warmup/snapshots.js';
import { Warmer, type WarmerOptions } from './warmup/warmer.js';

/** Longest wait for partitions to finish moving before the anti-entropy pass a table change calls for. */
const ANTI_ENTROPY_AFTER_MOVE_MAX_WAIT_MS = 30_000;

/** A member as `node.members()` reports it. */
export interface MemberInfo {
  id: string;
  address: string;
  state: MemberState;
}

/** Events of a node. */
export type NodeEventMap = {
  'member-join': [member: MemberInfo];
  'member-leave': [member: MemberInfo];
  'member-dead': [member: MemberInfo];
  /** A member failed a probe and is suspected; it may still refute. */
  'member-suspect': [member: MemberInfo];
  /** A suspected member refuted the suspicion and is alive again. */
  'member-alive': [member: MemberInfo];
  'rebalance-start': [detail: { tableVersion: number; partitions: number }];
  'rebalance-end': [detail: { tableVersion: number; partitions: number }];
  /** Something worth a log line (refused handshake, failed migration page, ...). */
  warning: [message: string, details: Record<string, unknown>];
};

/** The partition table as this node sees it. */
export interface PartitionTableInfo {
  version: number;
  partitionCount: number;
  replicas: number;
  /** Owners per partition, primary first. */
  owners: readonly (readonly string[])[];
}

const toInfo = (m: Member): MemberInfo => ({ id: m.id, address: m.address, state: m.state });

/** One Shoal node. Create with `createNode`. */
export class ShoalNode extends EventEmitter<NodeEventMap> {
  /** This node's id. */
  readonly id: string;
  /** 'host:port' actually bound (and advertised unless advertiseAddress was given). */
  readonly address: string;
  /** The cluster-wide cache: every LocalCache operation, async. */
  readonly cache: ClusterCache;
  /** The options in force. */
  readonly options: ResolvedNodeOptions;
  /** This node's own store (its share of the keyspace): for metrics and tests. */
  readonly localCache: LocalCache;
  /** Ephemeral publish/subscribe across the cluster (at-most-once, no storage). */
  readonly pubsub: PubSub;
  /** Durable, replicated topics with consumer groups. */
  readonly log: MessageLog;
  /** @internal the `/v1/client` WebSocket endpoint of @shoal/client (set by createNode). */
  clientEndpoint: ClientEndpoint | undefined;

  private table: string[][] = [];
  private previousTable: string[][] = [];
  private tableVersion = 0;
  private recomputeScheduled = false;
  private excludeSelf = false;
  private started = false; // no table until joined: a table of one would claim every partition
  private closing: Promise<void> | undefined;
  private readonly housekeeping: NodeJS.Timeout;
  /** A wait for partitions to finish moving, before the anti-entropy pass of a table change, is under way. */
  private antiEntropyAfterMove = false;

  /** @internal use createNode */
  constructor(
    options: ResolvedNodeOptions,
    address: string,
    private readonly app: FastifyInstance,
    private readonly partitioner: Partitioner,
    private readonly hash: HashFunction,
    private readonly store: ReplicaStore,
    private readonly transport: PeerTransport,
    private readonly membership: Membership,
  ) {
    super();
    this.options = options;
    this.id = options.nodeId;
    this.address = address;
    this.localCache = store.cache;
    const view = this.view();
    const replicator = new Replicator(store, view, transport, {
      writeConsistency: options.writeConsistency,
      readConsistency: options.readConsistency,
      replicationTimeoutMs: Math.min(options.requestTimeoutMs, 5000),
      minClusterSize: options.minClusterSize,
    });
    this.rebalancer = new Rebalancer(store, view, transport, {
      pageSize: 1000,
      pageTimeoutMs: 10_000,
      onPass: (event, detail) => this.emit(event === 'start' ? 'rebalance-start' : 'rebalance-end', detail),
      onWarning: (message, details) => this.warn(message, details),
    });
    this.antiEntropy = new AntiEntropy(
      store,
      view,
      transport,
      { intervalMs: options.antiEntropyIntervalMs, pageSize: 1000, timeoutMs: 10_000 },
      () => this.table,
    );
    this.cache = new ClusterCache(
      view,
      transport,
      replicator,
      {
        requestTimeoutMs: options.requestTimeoutMs,
        maxHops: 3,
        maxKeyBytes: store.cache.options.maxKeyBytes,
        maxValueBytes: store.cache.options.maxValueBytes,
        minClusterSize: options.minClusterSize,
      },
      (scan) => store.cache.scan(scan),
      () =>
        this.liveMembers()
          .map((m) => ({ id: m.id, address: m.address }))
          .sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    transport.handle(MessageKind.Stats, () => store.cache.stats());
    this.pubsub = new PubSub(
      this.id,
      transport,
      () => this.liveMembers().map((m) => ({ id: m.id, address: m.address })),
      {
        maxChannelLength: 1024,
        onHandlerError: (err, channel) => this.warn('a subscriber threw', { channel, message: String(err) }),
      },
    );
    this.log = new MessageLog({
      view,
      transport,
      cache: this.cache,
      clock: options.clock,
      dataDir: options.dataDir,
      requestTimeoutMs: options.requestTimeoutMs,
      transactionCheckIntervalMs: 10_000,
      onWarning: (message, details) => this.warn(message, details),
    });
    this.cacheFeatures = new NodeCacheFeatures({
      options,
      view,
      store,
      replicator,
      transport,
      cache: this.cache,
      log: this.log,
      partitionCount: partitioner.partitionCount,
      peers: () =>
        this.liveMembers()
          .filter((m) => m.id !== this.id)
          .map((m) => ({ id: m.id, address: m.address })),
    });
    this.snapshots = new Snapshots({
      store,
      view,
      transport,
      clock: options.clock,
      partitionCount: partitioner.partitionCount,
      members: () =>
        this.liveMembers()
          .map((m) => ({ id: m.id, address: m.address }))
          .sort((a, b) => (a.id < b.id ? -1 : 1)),
      requestTimeoutMs: options.requestTimeoutMs,
    });
    membership.on('member-join', (m) => {
      this.emit('member-join', toInfo(m));
      this.pubsub.announce({ id: m.id, address: m.address });
      this.cacheFeatures.memberJoined(m.address);
      this.scheduleRecompute();
      // a member back from the dead (or a fast restart) may hold diverged copies: repair now
      this.antiEntropy.runOnce(m.id).catch(() => {});
    });
    membership.on('member-leave', (m) => {
      this.emit('member-leave', toInfo(m));
      this.pubsub.forget(m.id);
      this.scheduleRecompute();
    });
    membership.on('member-dead', (m) => {
      this.emit('member-dead', toInfo(m));
      this.pubsub.forget(m.id);
      this.scheduleRecompute();
    });
    membership.on('member-update', () => this.scheduleRecompute());
    membership.on('suspect', (m) => {
      this.suspicions++;
      this.emit('member-suspect', toInfo(m));
    });
    membership.on('alive', (m) => this.emit('member-alive', toInfo(m)));
    this.housekeeping = setInterval(() => this.store.purgeTombstones(), 10_000);
    this.housekeeping.unref();
    this.antiEntropy.start();
  }

  private readonly rebalancer: Rebalancer;
  private readonly cacheFeatures: NodeCacheFeatures;

  /** The invalidation stream, near cache (or hot-key copies), tag marks and read-through leases of this node. */
  invalidationStats(): InvalidationStats {
    return this.cacheFeatures.stats();
  }

  /** The near cache (or hot-key copies) of this node, when on. */
  get nearCache(): NearCache | undefined {
    return this.cacheFeatures.near;
  }

  /** @internal the client endpoint: this node's invalidation stream. */
  nearSource(): InvalidationSource {
    return this.cacheFeatures.source;
  }

  /** @internal the client endpoint: tag marks, to judge tagged values before they leave the node. */
  tagRegistry(): TagRegistry {
    return this.cacheFeatures.tagRegistry;
  }

  /** Id of the primary of `key`'s partition in this node's table. */
  primaryOf(key: string): string | undefined {
    return this.table[this.partitioner.partitionOf(key)]?.[0];
  }
  private readonly snapshots: Snapshots;
  private readonly antiEntropy: AntiEntropy;
  private suspicions = 0;

  /** Failure-detector health (metrics, dashboard): Lifeguard score, failed probes, suspicions seen since start. */
  gossipHealth(): { healthScore: number; probeFailures: number; suspicions: number } {
    return {
      healthScore: this.membership.healthScore,
      probeFailures: this.membership.probeFailures,
      suspicions: this.suspicions,
    };
  }

  /** Every member this node knows, itself included, with its state. */
  members(): MemberInfo[] {
    return this.membership.members().map(toInfo);
  }

  /** The partition table in force here. */
  partitionTable(): PartitionTableInfo {
    return {
      version: this.tableVersion,
      partitionCount: this.partitioner.partitionCount,
      replicas: this.options.replicas,
      owners: this.table,
    };
  }

  /** Frames, messages and bytes this node sent and received to and from peers, over every connection. */
  transportCounters(): Promise<{
    framesOut: number;
    messagesOut: number;
    bytesOut: number;
    framesIn: number;
    messagesIn: number;
    bytesIn: number;
  }> {
    return this.transport.counters();
  }

  /** Members, table and rebalancing status, as /v1/cluster serves them. */
  clusterInfo(): {
    id: string;
    address: string;
    members: MemberInfo[];
    table: { version: number; partitionCount: number; replicas: number; owned: { primary: number; replica: number } };
    owners: readonly (readonly string[])[];
    rebalancing: { syncing: number; handingOff: number; running: boolean };
  } {
    let primary = 0;
    let replica = 0;
    for (const owners of this.table) {
      if (owners[0] === this.id) primary++;
      else if (owners.includes(this.id)) replica++;
    }
    return {
      id: this.id,
      address: this.address,
      members: this.members(),
      table: {
        version: this.tableVersion,
        partitionCount: this.partitioner.partitionCount,
        replicas: this.options.replicas,
        owned: { primary, replica },
      },
      owners: this.table,
      rebalancing: this.rebalancer.status(),
    };
  }

  /** Rebalancing state: partitions still arriving here, and partitions waiting for their new owners. */
  rebalanceStatus(): { syncing: number; handingOff: number; running: boolean } {
    return this.rebalancer.status();
  }

  /** This node's store counters plus cluster-wide totals gathered from every live member. */
  async stats(): Promise<{
    node: CacheStats;
    cluster: Pick<
      CacheStats,
      'hits' | 'misses' | 'sets' | 'deletes' | 'evictions' | 'expirations' | 'entries' | 'bytes'
    >;
    members: number;
    snapshot: { lastLoad: SnapshotLoadResult | undefined; lastExport: SnapshotExportResult | undefined };
    /** Invalidation stream, near cache (or hot-key copies), tag marks, read-through leases. */
    invalidation: InvalidationStats;
  }> {
    const nodes = await Promise.all(
      this.liveMembers().map((m) =>
        m.id === this.id
          ? Promise.resolve(this.localCache.stats())
          : (this.transport.request(m.address, MessageKind.Stats, null, 2000) as Promise<CacheStats>).catch(
              () => undefined,
            ),
      ),
    );
    const cluster = { hits: 0, misses: 0, sets: 0, deletes: 0, evictions: 0, expirations: 0, entries: 0, bytes: 0 };
    for (const s of nodes) {
      if (s === undefined) continue;
      for (const k of Object.keys(cluster) as (keyof typeof cluster)[]) cluster[k] += s[k];
    }
    return {
      node: this.localCache.stats(),
      cluster,
      members: nodes.filter(Boolean).length,
      snapshot: { lastLoad: this.snapshots.lastLoad, lastExport: this.snapshots.lastExport },
      invalidation: this.cacheFeatures.stats(),
    };
  }

  /**
   * Starts a warm-up: a consumer group on `options.topic` whose ids go
   * through `options.loader` into the cache, with progress and lag (see Warmer).
   */
  warmer(options: WarmerOptions): Warmer {
    return new Warmer(this.log, this.cache, options).start();
  }

  /** Writes this node's entries (scope 'node', default) or every key of the cluster to `file`. */
  exportSnapshot(file: string, options?: ExportSnapshotOptions): Promise<SnapshotExportResult> {
    return this.snapshots.export(file, options);
  }

  /** Verifies `file` and loads its unexpired entries into their owners; newer existing versions win. */
  loadSnapshot(file: string): Promise<SnapshotLoadResult> {
    return this.snapshots.load(file);
  }

  /**
   * Leaves gracefully: announces the leave, lets the new owners pull this
   * node's partitions (bounded by `timeoutMs`), then stops. Safe to call twice.
   */
  close(timeoutMs = 30_000): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = (async () => {
      await this.saveWarmRestartSnapshot();
      await this.membership.leave();
      this.excludeSelf = true;
      this.recompute();
      await this.rebalancer.settled(timeoutMs);
      await this.stop();
    })();
    return this.closing;
  }

  /** Stops at once without handing anything off (as a crash would, but cleanly). Safe to call twice. */
  shutdown(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.membership.shutdown();
    this.closing = this.stop();
    return this.closing;
  }

  /** With dataDir, the node's contents go to <dataDir>/cache.snapshot before the leave hands them off. */
  private async saveWarmRestartSnapshot(): Promise<void> {
    if (this.options.dataDir === undefined) return;
    try {
      const saved = await this.snapshots.export(join(this.options.dataDir, 'cache.snapshot'));
      this.options.logger?.info(saved, 'cache snapshot written');
    } catch (err) {
      this.warn('cache snapshot not written', { message: (err as Error).message });
    }
  }

  /** @internal createNode: with dataDir, loads <dataDir>/cache.snapshot (warm restart). */
  async loadWarmRestartSnapshot(): Promise<void> {
    if (this.options.dataDir === undefined) return;
    const file = join(this.options.dataDir, 'cache.snapshot');
    if (!existsSync(file)) return;
    try {
      const loaded = await this.snapshots.load(file);
      this.options.logger?.info(loaded, 'cache snapshot loaded (warm restart)');
    } catch (err) {
      // a damaged snapshot costs a cold start, never a failed one
      this.warn('cache snapshot not loaded', { file, message: (err as Error).message });
    }
  }

  private async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await this.log.close();
    this.cache.close();
    this.cacheFeatures.close();
    this.antiEntropy.stop();
    this.rebalancer.close();
    this.membership.shutdown();
    this.clientEndpoint?.close();
    await this.transport.close();
    this.app.server.closeAllConnections();
    await this.app.close();
    this.localCache.close();
  }

  private liveMembers(): Member[] {
    return this.membership.members().filter((m) => isLive(m) && this.compatible(m));
  }

  private compatible(member: Member): boolean {
    const count = member.meta?.partitionCount;
    if (count === undefined || count === this.partitioner.partitionCount) return true;
    this.warn('member has another partitionCount; it is kept out of the partition table', {
      member: member.id,
      theirs: count,
      ours: this.partitioner.partitionCount,
      code: 'SHOAL_CLUSTER_INCOMPATIBLE',
    });
    return false;
  }

  /** @internal called by createNode once the node has joined (or starts a cluster). */
  start(): void {
    this.started = true;
    this.recompute();
    this.pubsub.announce();
    this.cacheFeatures.start();
  }

  private scheduleRecompute(): void {
    if (this.recomputeScheduled || !this.started) return;
    this.recomputeScheduled = true;
    setImmediate(() => {
      this.recomputeScheduled = false;
      this.recompute();
    });
  }

  /** Recomputes the owners of every partition from the live members; on change, starts rebalancing. */
  private recompute(): void {
    if (this.closing !== undefined && !this.excludeSelf) return;
    const members = this.liveMembers()
      .map((m) => m.id)
      .filter((id) => !(this.excludeSelf && id === this.id));
    const next =
      members.length === 0
        ? Array.from({ length: this.partitioner.partitionCount }, () => [] as string[])
        : computeOwners({
            members,
            partitionCount: this.partitioner.partitionCount,
            replicas: this.options.replicas,
            hash: this.hash,
          });
    if (sameTable(this.table, next)) return;
    // a node's first table: what the others had before it arrived, so it pulls what it gains
    this.previousTable = this.table.length === 0 ? this.tableWithout(members, this.id) : this.table;
    this.table = next;
    this.tableVersion++;
    this.rebalancer.tableChanged(this.previousTable, this.table, this.tableVersion);
    this.log.tableChanged();
    this.cacheFeatures.tableChanged();
    // copies of partitions kept through the change may differ (a rejoin, two clusters merging): compare once
    // the partitions have moved. Digests read every key; run during the move they competed with it and with
    // foreground calls (a loaded join settled in 1.2 s instead of 0.7-0.9 s, and its throughput dip was deeper)
    // One wait at a time: a pass run after the last change covers every change before it.
    if (this.tableVersion > 1 && !this.excludeSelf && !this.antiEntropyAfterMove) {
      this.antiEntropyAfterMove = true;
      void this.rebalancer.settled(ANTI_ENTROPY_AFTER_MOVE_MAX_WAIT_MS).then(() => {
        this.antiEntropyAfterMove = false;
        if (this.rebalancer.isClosed) return;
        const timer = setTimeout(() => this.antiEntropy.runOnce().catch(() => {}), 250);
        timer.unref();
      });
    }
  }

  private tableWithout(members: readonly string[], id: string): string[][] {
    const others = members.filter((m) => m !== id);
    if (others.length === 0) return Array.from({ length: this.partitioner.partitionCount }, () => [] as string[]);
    return computeOwners({
      members: others,
      partitionCount: this.partitioner.partitionCount,
      replicas: this.options.replicas,
      hash: this.hash,
    });
  }

  private view(): ClusterView {
    // the view's getters read the node's current state
    const node = this;
    return {
      selfId: this.options.nodeId,
      partitionOf: (key) => node.partitioner.partitionOf(key),
      ownersOf: (p) => node.table[p] ?? [],
      previousOwnersOf: (p) => node.previousTable[p] ?? [],
      addressOf: (id) => {
        if (id === node.id) return node.address;
        const member = node.membership.member(id);
        // a left member still serves its handoff; a dead one is not worth a dial
        return member === undefined || member.state === 'dead' ? undefined : member.address;
      },
      get tableVersion() {
        return node.tableVersion;
      },
      isSyncing: (p) => node.rebalancer.isSyncing(p),
      syncSourcesOf: (p) => node.rebalancer.sourcesOf(p),
      get aliveCount() {
        // split-brain guard: suspects do not count, a node must hear from enough members
        return node.membership.members().filter((m) => m.state === 'alive').length;
      },
    };
  }

  private warn(message: string, details: Record<string, unknown>): void {
    this.options.logger?.warn(details, message);
    if (this.listenerCount('warning') > 0) this.emit('warning', message, details);
  }
}

function sameTable(a: readonly (readonly string[])[], b: readonly (readonly string[])[]): boolean {
  if (a.length !== b.length) return false;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] as readonly string[];
    const y = b[p] as readonly string[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}

function membershipConfig(preset: ResolvedNodeOptions['membership']): MembershipConfigOptions | undefined {
  if (preset === 'lan') return undefined;
  if (preset === 'local') return { ...localConfig() };
  if (preset === 'wan') return { ...wanConfig() };
  return preset;
}

/** Starts a node: listens, joins through the seeds, and serves the whole keyspace through `node.cache`. */
export async function createNode(options: NodeOptions = {}): Promise<ShoalNode> {
  const o = resolveNodeOptions(options);
  const hash = await createXxHash32();
  const partitioner = new Partitioner(o.partitionCount, hash);
  const cache = new LocalCache({
    memory: o.memory,
    ...(o.maxEntries === undefined ? {} : { maxEntries: o.maxEntries }),
    eviction: o.eviction,
    maxValueBytes: o.maxValueBytes,
    nodeId: o.nodeId,
    clock: o.clock,
  });
  const store = new ReplicaStore(cache, (key) => partitioner.partitionOf(key), o.clock, o.tombstoneTtlMs);
  // the HTTP API needs the node, which needs the bound address: routes reach it through this holder
  const holder: { node?: ShoalNode; metrics?: Registry } = {};
  const live = (): ShoalNode => {
    if (holder.node === undefined) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node is still starting');
    return holder.node;
  };
  const app = await createHttpServer({
    cache: {
      get: (key) => live().cache.get(key),
      set: (key, value, setOptions) => live().cache.set(key, value, setOptions),
      delete: (key) => live().cache.delete(key),
    },
    maxKeyBytes: cache.options.maxKeyBytes,
    maxBodyBytes: Math.min(o.maxFrameBytes, cache.options.maxValueBytes + 1024),
    stats: () => live().stats(),
    cluster: () => live().clusterInfo(),
    log: () => live().log,
    metrics: async () => {
      const registry = holder.metrics ?? createNodeMetrics(live());
      holder.metrics = registry;
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    version: o.version,
    ...(o.logger === undefined ? {} : { logger: o.logger }),
    ready: () => readinessOf(holder.node),
    node: live,
    token: o.token,
    adminToken: o.adminToken,
    tls: o.tls,
    maxConnectionsPerIp: o.maxConnectionsPerIp,
  });
  try {
    await app.listen({ port: o.port, host: o.host });
  } catch (err) {
    await app.close();
    throw new ShoalError('SHOAL_CONFIG_INVALID', `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, {
      option: 'port',
    });
  }
  const server = app.server;
  const bound = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const address = o.advertiseAddress ?? `${host}:${bound.port}`;
  const transport = new PeerTransport({
    nodeId: o.nodeId,
    address,
    secret: o.secret,
    maxFrameBytes: o.maxFrameBytes,
    maxMessagesPerFrame: 100_000,
    maxInFlight: 100_000,
    connectTimeoutMs: 2000,
    maxClockSkewMs: 60_000,
    clock: o.clock,
    tls: o.tls === undefined ? undefined : { ca: o.tls.ca },
    onWarning: (message, details) => o.logger?.warn(details, message),
  });
  const clientEndpoint = new ClientEndpoint(live, {
    token: o.token,
    maxFrameBytes: o.maxFrameBytes,
    maxInFlight: 10_000,
    topologyCheckMs: 100,
    onWarning: (message, details) => o.logger?.warn(details, message),
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/peer') transport.handleUpgrade(req, socket, head);
    else if (req.url?.split('?', 1)[0] === '/v1/client') clientEndpoint.handleUpgrade(req, socket, head);
    else {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      socket.destroy();
    }
  });
  const membership = new Membership({
    id: o.nodeId,
    address,
    transport: {
      request: (to, message, timeoutMs) =>
        transport.request(to, MessageKind.Membership, message, timeoutMs) as Promise<MembershipMessage>,
      send: (to, message) => transport.send(to, MessageKind.Membership, message),
    },
    meta: { partitionCount: o.partitionCount },
    ...(membershipConfig(o.membership) === undefined ? {} : { config: membershipConfig(o.membership) }),
    clock: o.clock,
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  });
  transport.handle(MessageKind.Membership, (body, from) =>
    membership.handleMessage(from.remoteAddress, validateMembershipMessage(body)),
  );
  transport.onDisconnect((peer) => membership.onPeerDisconnected(peer));
  const node = new ShoalNode(o, address, app, partitioner, hash, store, transport, membership);
  holder.node = node;
  // counted from the start, not from the first scrape
  holder.metrics = createNodeMetrics(node);
  node.clientEndpoint = clientEndpoint;
  membership.start();
  if (o.seeds.length > 0) {
    try {
      await membership.join(o.seeds);
    } catch (err) {
      if (!isShoalError(err, 'SHOAL_TRANSPORT_UNAVAILABLE')) {
        await node.shutdown();
        throw err;
      }
      // no seed answered yet: run alone and keep retrying in the background (membership's reconnector)
      o.logger?.warn({ seeds: o.seeds }, 'no seed answered; running alone and retrying');
    }
    const other = node
      .members()
      .map((m) => membership.member(m.id))
      .find((m) => m?.meta?.partitionCount !== undefined && m.meta.partitionCount !== o.partitionCount);
    if (other !== undefined) {
      await node.shutdown();
      throw new ShoalError(
        'SHOAL_CLUSTER_INCOMPATIBLE',
        `the cluster uses partitionCount ${String(other.meta?.partitionCount)}, this node ${o.partitionCount}: they cannot join`,
        { ours: o.partitionCount, theirs: other.meta?.partitionCount as number, member: other.id },
      );
    }
  }
  node.start();
  await node.loadWarmRestartSnapshot();
  return node;
}
