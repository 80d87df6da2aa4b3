/**
 * The near cache's side of the invalidation stream. It holds a lease-based
 * subscription at every other member and tracks, per partition, the epoch and
 * the last sequence number seen. Anything that could hide an invalidation
 * drops what the near cache holds:
 *  - an event whose sequence skips one: that partition;
 *  - a new epoch (the primary changed): that partition;
 *  - a renewal showing the primary was further along than the events seen at
 *    the previous renewal (events lost), or that the subscription had lapsed
 *    or the primary restarted: that primary's partitions;
 *  - a connection to a subscribed member dropping: everything;
 *  - a table change: every partition whose primary changed.
 * A reply is kept only from a primary this node is subscribed to, in the
 * epoch it tracks, and only if its reservation survived (NearCache).
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
import type { ClusterView } from '../replication/cluster-view.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import type { InvalidationEvent, StreamPosition, SubscribeReply } from './invalidation-source.js';
import type { NearCache } from './near-cache.js';

/** Settings of the subscriber. */
export interface InvalidationSubscriberOptions {
  /** Time between renewals (and reconciliations), in ms. */
  renewMs: number;
  /** Number of partitions. */
  partitionCount: number;
  /** Budget of one subscription request, in ms. */
  requestTimeoutMs: number;
}

interface Position {
  epoch: number;
  seq: number;
}

/** Keeps a near cache in step with the primaries' invalidation streams. */
export class InvalidationSubscriber {
  private readonly positions = new Map<number, Position>();
  /** Sequence each primary reported at the previous renewal, checked at the next one. */
  private readonly reported = new Map<number, number>();
  private readonly sources = new Map<string, number>(); // address -> incarnation of a confirmed subscription
  private primaries: (string | undefined)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    private readonly near: NearCache,
    /** Alive members other than this node. */
    private readonly peers: () => readonly { id: string; address: string }[],
    private readonly options: InvalidationSubscriberOptions,
  ) {
    transport.handle(MessageKind.Invalidate, (body) => this.receive(body));
    transport.onDisconnect((address) => this.lost(address));
    this.primaries = this.currentPrimaries();
  }

  /** Subscribes at every member now and renews periodically. */
  start(): void {
    this.renewAll();
    this.timer = setInterval(() => this.renewAll(), this.options.renewMs);
    this.timer.unref();
  }

  /** True when this node holds a confirmed subscription at `address`. */
  isSubscribed(address: string): boolean {
    return this.sources.has(address);
  }

  /**
   * Whether a near read's reply from the primary at `address` may be kept:
   * subscribed there and in the partition's current epoch.
   */
  accept(partition: number, address: string, epoch: number, seq: number): boolean {
    if (!this.sources.has(address)) return false;
    const position = this.positions.get(partition);
    if (position === undefined) {
      this.positions.set(partition, { epoch, seq });
      return true;
    }
    if (position.epoch === epoch) return true;
    this.restart(partition, epoch, seq);
    return false;
  }

  /** Drops partitions whose primary changed and subscribes where needed. */
  tableChanged(): void {
    const next = this.currentPrimaries();
    const changed = new Set<number>();
    for (let p = 0; p < next.length; p++) {
      if (next[p] !== this.primaries[p]) {
        changed.add(p);
        this.positions.delete(p);
        this.reported.delete(p);
      }
    }
    this.primaries = next;
    this.near.dropPartitions(changed);
    if (changed.size > 0) this.renewAll();
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
    for (const address of this.sources.keys()) if (!alive.has(address)) this.lost(address);
  }

  private async renew(address: string): Promise<void> {
    let reply: SubscribeReply;
    try {
      reply = (await this.transport.request(
        address,
        MessageKind.InvalidationSubscribe,
        [this.options.renewMs * 3],
        this.options.requestTimeoutMs,
      )) as SubscribeReply;
    } catch (err) {
      // a source that cannot renew may be sending nothing: stop trusting what came from it
      if (this.sources.has(address)) this.lost(address);
      throw err;
    }
    if (this.closed) return;
    if (!Array.isArray(reply) || reply.length !== 3 || !Array.isArray(reply[2])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a subscription reply is [incarnation, wasSubscribed, positions]');
    }
    const [incarnation, wasSubscribed, positions] = reply;
    const previous = this.sources.get(address);
    const continuous = previous === incarnation && wasSubscribed;
    this.sources.set(address, incarnation);
    const drop = new Set<number>();
    for (const [partition, epoch, seq] of positions as StreamPosition[]) {
      const position = this.positions.get(partition);
      const reported = this.reported.get(partition);
      this.reported.set(partition, seq);
      if (position === undefined) continue;
      if (!continuous && previous !== undefined) drop.add(partition);
      else if (position.epoch !== epoch) drop.add(partition);
      else if (reported !== undefined && position.seq < reported) drop.add(partition); // events that never came
      if (drop.has(partition)) this.positions.set(partition, { epoch, seq });
    }
    this.near.dropPartitions(drop);
  }

  private receive(body: unknown): void {
    if (!Array.isArray(body) || body.length !== 2 || !Array.isArray(body[1])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'an invalidation batch is [incarnation, events]');
    }
    for (const event of body[1] as InvalidationEvent[]) {
      if (!Array.isArray(event) || event.length !== 5 || typeof event[3] !== 'string') {
        throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'an invalidation is [partition, epoch, seq, key, version]');
      }
      const [partition, epoch, seq, key, version] = event;
      this.near.invalidate(key, version);
      const position = this.positions.get(partition);
      if (position === undefined) this.positions.set(partition, { epoch, seq });
      else if (position.epoch !== epoch || seq > position.seq + 1) this.restart(partition, epoch, seq);
      else if (seq === position.seq + 1) position.seq = seq;
    }
  }

  private restart(partition: number, epoch: number, seq: number): void {
    this.near.dropPartition(partition);
    this.positions.set(partition, { epoch, seq });
    this.reported.delete(partition);
  }

  private lost(address: string): void {
    if (!this.sources.delete(address)) return;
    this.near.clear();
    this.positions.clear();
    this.reported.clear();
    if (!this.closed) setTimeout(() => this.renewAll(), 50).unref();
  }
}
