/**
 * The embedded near cache's side of the invalidation stream: holds a
 * lease-based subscription at every other member, renews it periodically
 * (each renewal doubles as a reconciliation of stream positions) and feeds
 * events, renewals, disconnects and table changes to the StreamTracker, which
 * drops whatever can no longer be trusted.
 */
import { MessageKind, type NearCache, ShoalError, StreamTracker } from '@shoal/protocol';
import type { ClusterView } from '../replication/cluster-view.js';
import type { PeerTransport } from '../transport/peer-transport.js';

/** Settings of the subscriber. */
export interface InvalidationSubscriberOptions {
  /** Time between renewals (and reconciliations), in ms. */
  renewMs: number;
  /** Number of partitions. */
  partitionCount: number;
  /** Budget of one subscription request, in ms. */
  requestTimeoutMs: number;
}

/** Keeps a near cache in step with the primaries' invalidation streams. */
export class InvalidationSubscriber {
  private readonly tracker: StreamTracker;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    near: NearCache,
    /** Alive members other than this node. */
    private readonly peers: () => readonly { id: string; address: string }[],
    private readonly options: InvalidationSubscriberOptions,
  ) {
    this.tracker = new StreamTracker(near);
    transport.handle(MessageKind.Invalidate, (body) => {
      if (!Array.isArray(body) || body.length !== 2) {
        throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'an invalidation batch is [incarnation, events]');
      }
      this.tracker.events(body[1]);
    });
    transport.onDisconnect((address) => this.lost(address));
    this.tracker.tableChanged(this.currentPrimaries());
  }

  /** Subscribes at every member now and renews periodically. */
  start(): void {
    this.renewAll();
    this.timer = setInterval(() => this.renewAll(), this.options.renewMs);
    this.timer.unref();
  }

  /** True when this node holds a confirmed subscription at `address`. */
  isSubscribed(address: string): boolean {
    return this.tracker.isSubscribed(address);
  }

  /** Whether a near read's reply from the primary at `address` may be kept. */
  accept(partition: number, address: string, epoch: number, seq: number): boolean {
    return this.tracker.accept(partition, address, epoch, seq);
  }

  /** Drops partitions whose primary changed and subscribes where needed. */
  tableChanged(): void {
    if (this.tracker.tableChanged(this.currentPrimaries())) this.renewAll();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private currentPrimaries(): (string | undefined)[] {
    const primaries: (string | undefined)[] = [];
    for (let p = 0; p < this.options.partitionCount; p++) primaries.push(this.view.ownersOf(p)[0]);
    return primaries;
  }

  private renewAll(): void {
    if (this.closed) return;
    const alive = new Set<string>();
    for (const peer of this.peers()) {
      alive.add(peer.address);
      this.renew(peer.address).catch(() => {});
    }
    for (const address of this.tracker.subscribedSources()) if (!alive.has(address)) this.lost(address);
  }

  private async renew(address: string): Promise<void> {
    let reply: unknown;
    try {
      reply = await this.transport.request(
        address,
        MessageKind.InvalidationSubscribe,
        [this.options.renewMs * 3],
        this.options.requestTimeoutMs,
      );
    } catch (err) {
      // a source that cannot renew may be sending nothing: stop trusting what came from it
      this.lost(address);
      throw err;
    }
    if (!this.closed) this.tracker.subscribed(address, reply);
  }

  private lost(address: string): void {
    if (this.tracker.lost(address) && !this.closed) setTimeout(() => this.renewAll(), 50).unref();
  }
}
