/**
 * The primary's side of the invalidation stream. Every change to a key of a
 * partition this node is primary for gets the partition's next sequence
 * number and goes to every subscribed node, batched per tick into one message
 * per subscriber. A partition's sequence lives in an epoch: a random number
 * drawn when this node becomes its primary, so a subscriber that sees a new
 * epoch knows the primary changed and nothing it holds for the partition can
 * be trusted. Subscriptions are leases renewed by the subscriber; the renewal
 * reply carries every partition's (epoch, sequence) so a subscriber can find
 * events that never arrived.
 *
 * The same node answers near-cache reads (NearRead) with the value, its
 * deadline and the partition's (epoch, sequence) at the time of the read, and
 * flags keys read far more often than others (hot keys) so that nodes
 * without a near cache may still keep a short-lived copy of them.
 */
import {
  type InvalidationEvent,
  MessageKind,
  type NearReadReply,
  ShoalError,
  type StreamPosition,
  type SubscribeReply,
} from '@shoal/protocol';
import { FrequencySketch, spreadHash } from '../eviction/frequency-sketch.js';
import { hashKey } from '../eviction/key-hash.js';
import type { ClusterView } from '../replication/cluster-view.js';
import type { ReplicaStore } from '../replication/replica-store.js';
import type { PeerConnection } from '../transport/peer-connection.js';
import type { PeerTransport } from '../transport/peer-transport.js';

export type { InvalidationEvent, NearReadReply, StreamPosition, SubscribeReply } from '@shoal/protocol';

interface PartitionStream {
  epoch: number;
  seq: number;
}

/** Settings of the invalidation source. */
export interface InvalidationSourceOptions {
  /** Reads counted (out of 15, the sketch's ceiling) before a key is reported hot. */
  hotKeyThreshold: number;
  partitionCount: number;
  now: () => number;
}

const randomEpoch = () => 1 + Math.floor(Math.random() * 0x7ffffffe);

/** Publishes invalidations of the partitions this node is primary for. */
export class InvalidationSource {
  /** Drawn at start: a subscriber that sees it change knows its subscription was lost. */
  readonly incarnation = randomEpoch();
  private readonly streams = new Map<number, PartitionStream>();
  private readonly subscribers = new Map<string, number>(); // address -> lease deadline (wall ms)
  private readonly pending = new Map<string, InvalidationEvent[]>();
  /** In-process listeners (client connections of the client endpoint), fed the same batches. */
  private readonly sinks = new Set<(events: InvalidationEvent[]) => void>();
  private sinkBatch: InvalidationEvent[] = [];
  private flushScheduled = false;
  private readonly reads = new FrequencySketch(4096);
  private eventsSent = 0;

  constructor(
    private readonly view: ClusterView,
    private readonly store: ReplicaStore,
    private readonly transport: PeerTransport,
    private readonly options: InvalidationSourceOptions,
  ) {
    transport.handle(MessageKind.InvalidationSubscribe, (body, from) => this.subscribe(body, from));
    transport.handle(MessageKind.NearRead, (body) => this.nearRead(body));
  }

  /** Called after every change to `key` in the local store; publishes it if this node is the primary. */
  changed(key: string): void {
    const partition = this.view.partitionOf(key);
    if (this.view.ownersOf(partition)[0] !== this.view.selfId) return;
    const stream = this.streamOf(partition);
    stream.seq++;
    if (this.subscribers.size === 0 && this.sinks.size === 0) return;
    const version = this.store.cache.versionOf(key)?.version ?? 0;
    const event: InvalidationEvent = [partition, stream.epoch, stream.seq, key, version];
    if (this.sinks.size > 0) this.sinkBatch.push(event);
    const now = this.options.now();
    for (const [address, deadline] of this.subscribers) {
      if (deadline < now) {
        this.subscribers.delete(address);
        continue;
      }
      let queue = this.pending.get(address);
      if (queue === undefined) {
        queue = [];
        this.pending.set(address, queue);
      }
      queue.push(event);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // at the end of this tick's microtasks: every write of one inbound frame is applied synchronously by
      // then, so they still leave as one batch, and the transport's own per-turn batching is the only wait
      queueMicrotask(this.flushNow);
    }
  }

  /** Forgets the streams of partitions this node is no longer primary for (a new stint gets a new epoch). */
  tableChanged(): void {
    for (const partition of this.streams.keys()) {
      if (this.view.ownersOf(partition)[0] !== this.view.selfId) this.streams.delete(partition);
    }
  }

  /** Counters for stats. */
  stats(): { subscribers: number; eventsSent: number; streams: number } {
    return { subscribers: this.subscribers.size, eventsSent: this.eventsSent, streams: this.streams.size };
  }

  private streamOf(partition: number): PartitionStream {
    let stream = this.streams.get(partition);
    if (stream === undefined) {
      stream = { epoch: randomEpoch(), seq: 0 };
      this.streams.set(partition, stream);
    }
    return stream;
  }

  /**
   * Feeds this node's events to `sink` (a client connection) until the
   * returned `close`; `positions` is the subscription reply to send it first.
   */
  addSink(sink: (events: InvalidationEvent[]) => void): { positions: SubscribeReply; close: () => void } {
    this.sinks.add(sink);
    return { positions: this.subscribeReply(true), close: () => this.sinks.delete(sink) };
  }

  /** The stream position of a partition this node leads: [epoch, seq]. */
  position(partition: number): [epoch: number, seq: number] {
    const stream = this.streamOf(partition);
    return [stream.epoch, stream.seq];
  }

  /** A near read answered here (the client endpoint calls it for its clients). */
  read(key: string): NearReadReply {
    return this.nearRead([key]);
  }

  private readonly flushNow = () => this.flush();

  private flush(): void {
    this.flushScheduled = false;
    if (this.sinkBatch.length > 0) {
      const batch = this.sinkBatch;
      this.sinkBatch = [];
      this.eventsSent += batch.length * this.sinks.size;
      for (const sink of this.sinks) sink(batch);
    }
    for (const [address, events] of this.pending) {
      this.eventsSent += events.length;
      this.transport.send(address, MessageKind.Invalidate, [this.incarnation, events]);
    }
    this.pending.clear();
  }

  private subscribe(body: unknown, from: PeerConnection): SubscribeReply {
    if (!Array.isArray(body) || body.length !== 1 || typeof body[0] !== 'number' || !(body[0] > 0)) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a subscription is [leaseMs]');
    }
    const address = from.remoteAddress;
    const wasSubscribed = (this.subscribers.get(address) ?? 0) >= this.options.now();
    this.subscribers.set(address, this.options.now() + Math.min(body[0] as number, 600_000));
    return this.subscribeReply(wasSubscribed);
  }

  private subscribeReply(wasSubscribed: boolean): SubscribeReply {
    const positions: StreamPosition[] = [];
    const count = this.options.partitionCount;
    for (let partition = 0; partition < count; partition++) {
      if (this.view.ownersOf(partition)[0] !== this.view.selfId) continue;
      const stream = this.streamOf(partition);
      positions.push([partition, stream.epoch, stream.seq]);
    }
    return [this.incarnation, wasSubscribed, positions];
  }

  private nearRead(body: unknown): NearReadReply {
    if (!Array.isArray(body) || body.length !== 1 || typeof body[0] !== 'string') {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a near read is [key]');
    }
    const key = body[0] as string;
    const partition = this.view.partitionOf(key);
    if (this.view.ownersOf(partition)[0] !== this.view.selfId || this.view.isSyncing(partition)) {
      // a partition still arriving is read through the normal path, which pulls from its previous owners
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', `not the settled primary of partition ${partition}`, {
        partition,
        tableVersion: this.view.tableVersion,
      });
    }
    const stream = this.streamOf(partition);
    const cache = this.store.cache;
    const stored = cache.get(key);
    const ttl = stored === undefined ? -2 : cache.ttl(key);
    const hash = spreadHash(hashKey(key));
    this.reads.increment(hash);
    const hot = this.reads.frequency(hash) >= this.options.hotKeyThreshold;
    return [stored, ttl >= 0 ? this.options.now() + ttl : 0, stream.epoch, stream.seq, hot];
  }
}
