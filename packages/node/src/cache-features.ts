/**
 * Wires what makes node.cache more than a routed store: the invalidation
 * stream (every primary publishes, near caches subscribe), the near cache or
 * hot-key copies, tag marks, and getOrSet's single flight. One object so the
 * node has one thing to start, tell about table changes and close.
 */

import { NearCache, type NearCacheStats } from '@shoal/protocol';
import type { CacheFeatures, ClusterCache } from './cluster/cluster-cache.js';
import { InvalidationSource } from './invalidation/invalidation-source.js';
import { InvalidationSubscriber } from './invalidation/invalidation-subscriber.js';
import type { MessageLog } from './log/message-log.js';
import type { ResolvedNodeOptions } from './node-options.js';
import { LoadCoordinator } from './readthrough/load-coordinator.js';
import type { ClusterView } from './replication/cluster-view.js';
import type { ReplicaStore } from './replication/replica-store.js';
import type { Replicator } from './replication/replicator.js';
import { systemClock } from './store/clock.js';
import { TagRegistry } from './tags/tag-registry.js';
import { TagService } from './tags/tag-service.js';
import type { PeerTransport } from './transport/peer-transport.js';

/** What the wiring needs from the node. */
export interface CacheFeatureDeps {
  options: ResolvedNodeOptions;
  view: ClusterView;
  store: ReplicaStore;
  replicator: Replicator;
  transport: PeerTransport;
  cache: ClusterCache;
  log: MessageLog;
  partitionCount: number;
  /** Alive members other than this node. */
  peers: () => readonly { id: string; address: string }[];
}

/** Statistics of the invalidation stream and the near cache. */
export interface InvalidationStats {
  /** Nodes subscribed to this node's stream, and events sent to them. */
  source: { subscribers: number; eventsSent: number; streams: number };
  /** The near cache (or hot-key copies), when on. */
  nearCache: (NearCacheStats & { mode: 'near' | 'hot-keys' }) | undefined;
  /** Tag marks held. */
  tags: number;
  /** getOrSet leases granted here (loader calls for keys this node is primary for). */
  loadLeases: number;
}

/** The cache features of one node. */
export class NodeCacheFeatures {
  readonly source: InvalidationSource;
  readonly near: NearCache | undefined;
  private readonly subscriber: InvalidationSubscriber | undefined;
  private readonly tags: TagService;
  readonly tagRegistry: TagRegistry;
  private readonly loads: LoadCoordinator;
  private readonly mode: 'near' | 'hot-keys' | undefined;

  constructor(deps: CacheFeatureDeps) {
    const { options, view, store, transport } = deps;
    // the near cache's hit path reads the clock once per hit: skip the indirection for the system clock
    const now = options.clock === systemClock ? Date.now : () => options.clock.now();
    this.source = new InvalidationSource(view, store, transport, {
      hotKeyThreshold: options.hotKeys?.threshold ?? 8,
      partitionCount: deps.partitionCount,
      now,
    });
    store.onChange = (key) => this.source.changed(key);
    const registry = new TagRegistry();
    this.tagRegistry = registry;
    const versions = {
      nextVersion: () => store.cache.nextVersion(),
      observeVersion: (v: number) => store.cache.observeVersion(v),
    };
    this.tags = new TagService(registry, transport, versions, deps.peers, options.requestTimeoutMs);
    this.loads = new LoadCoordinator(view, store.cache, deps.replicator, registry, transport, now, (p) =>
      this.source.position(p),
    );
    const features: CacheFeatures = { tags: this.tags, versions, loads: this.loads, log: deps.log, now };
    const near =
      options.nearCache ??
      (options.hotKeys ? { maxEntries: options.hotKeys.maxEntries, maxTtlMs: options.hotKeys.ttlMs } : undefined);
    if (near !== undefined) {
      this.mode = options.nearCache !== undefined ? 'near' : 'hot-keys';
      this.near = new NearCache({
        maxEntries: near.maxEntries,
        maxTtlMs: near.maxTtlMs,
        now,
        coarseClock: options.clock === systemClock,
      });
      this.subscriber = new InvalidationSubscriber(view, transport, this.near, deps.peers, {
        renewMs: 5000,
        partitionCount: deps.partitionCount,
        requestTimeoutMs: Math.min(options.requestTimeoutMs, 5000),
      });
      features.near = { cache: this.near, subscriber: this.subscriber, hotOnly: this.mode === 'hot-keys' };
    }
    deps.cache.features = features;
  }

  /** The node joined: subscribe to the other members' streams. */
  start(): void {
    this.subscriber?.start();
  }

  /** The partition table changed. */
  tableChanged(): void {
    this.source.tableChanged();
    this.subscriber?.tableChanged();
    this.loads.tableChanged();
  }

  /** A member joined: give it the tag marks. */
  memberJoined(address: string): void {
    this.tags.syncTo(address);
  }

  stats(): InvalidationStats {
    return {
      source: this.source.stats(),
      nearCache:
        this.near === undefined || this.mode === undefined ? undefined : { ...this.near.stats(), mode: this.mode },
      tags: this.tags.registry.size,
      loadLeases: this.loads.leases,
    };
  }

  close(): void {
    this.subscriber?.close();
    this.near?.clear();
  }
}
