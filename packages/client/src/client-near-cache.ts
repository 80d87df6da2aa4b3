/**
 * The client's near cache: the same NearCache and StreamTracker the embedded
 * node uses, fed by each node connection. On every connection that opens, the
 * client subscribes to that node's invalidation stream; the node pushes
 * events on the same socket as its replies, so a near read's reply and the
 * events that follow it arrive in order. A connection that closes drops
 * everything (events may have been lost), a table change drops the partitions
 * whose primary moved, and a read is kept only under a reservation no
 * invalidation has cancelled, from a subscribed primary, in its epoch.
 * Tagged and read-through values are not kept (the client holds no tag marks).
 */
import { MessageKind, NearCache, type NearCacheStats, partitionOf, StreamTracker } from '@shoal/protocol';
import type { NodeConnection } from './node-connection.js';

/** A near read reply: [value, expiresAt, epoch, seq, cacheable, nodeId]. */
type NearReply = [value: unknown, expiresAt: number, epoch: number, seq: number, cacheable: boolean, nodeId: string];

/** Near cache of one client. */
export class ClientNearCache {
  readonly cache: NearCache;
  private readonly tracker: StreamTracker;
  private partitionCount = 0;

  constructor(
    options: { maxEntries: number; maxTtlMs: number },
    private readonly subscribeTimeoutMs: number,
  ) {
    this.cache = new NearCache({
      maxEntries: options.maxEntries,
      maxTtlMs: options.maxTtlMs,
      now: Date.now,
      coarseClock: true,
    });
    this.tracker = new StreamTracker(this.cache);
  }

  /** A connection to `nodeId` opened: subscribe to its stream. */
  connected(connection: NodeConnection, nodeId: string): void {
    connection.request(MessageKind.ClientInvalidationSubscribe, [], this.subscribeTimeoutMs, undefined).then(
      (reply) => {
        if (!connection.closed) this.tracker.subscribed(nodeId, reply);
      },
      () => {}, // the connection failed; its close drops what it fed
    );
  }

  /** A connection to `nodeId` closed: what its stream fed can no longer be trusted. */
  disconnected(nodeId: string): void {
    this.tracker.lost(nodeId);
  }

  /** Ids of the nodes whose invalidation stream this client is subscribed to. */
  subscribedNodes(): string[] {
    return this.tracker.subscribedSources();
  }

  /** A pushed batch of invalidation events. */
  events(body: unknown): void {
    this.tracker.events(body);
  }

  /** The partition table changed: primaries by partition. */
  tableChanged(partitionCount: number, primaries: readonly (string | undefined)[]): void {
    this.partitionCount = partitionCount;
    this.tracker.tableChanged(primaries);
  }

  /** The held value of `key`, or undefined (counts a hit or a miss). */
  lookup(key: string): unknown {
    return this.cache.lookup(key);
  }

  /** Reads through: `read` asks the primary; its reply is kept if nothing invalidated the key meanwhile. */
  async read(key: string, read: () => Promise<unknown>): Promise<unknown> {
    const partition = this.partitionCount > 0 ? partitionOf(key, this.partitionCount) : -1;
    const token = this.cache.reserve(key, partition);
    let reply: NearReply;
    try {
      reply = (await read()) as NearReply;
    } catch (err) {
      this.cache.release(key, token);
      throw err;
    }
    const [value, expiresAt, epoch, seq, cacheable, nodeId] = reply;
    if (cacheable && partition >= 0 && this.tracker.accept(partition, nodeId, epoch, seq)) {
      this.cache.complete(key, token, value, partition, expiresAt);
    } else {
      this.cache.release(key, token);
    }
    return value;
  }

  /** Drops `key` (a write through this client). */
  invalidate(key: string): void {
    this.cache.invalidate(key);
  }

  stats(): NearCacheStats {
    return this.cache.stats();
  }

  close(): void {
    this.cache.clear();
  }
}
