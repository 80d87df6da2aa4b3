/**
 * What a near cache must know to trust its copies: per partition, the epoch
 * and last sequence number seen on the invalidation stream, and which sources
 * (primaries) it holds a confirmed subscription at. It turns every sign that
 * an invalidation may have been missed into a drop (see the table in
 * docs/ARCHITECTURE.md, "Near cache"). Transport-free, so the embedded node
 * and the client library run the same rules.
 */
import { ShoalError } from '../errors.js';
import type { NearCache } from './near-cache.js';
import {
  type InvalidationEvent,
  isInvalidationEvent,
  type StreamPosition,
  type SubscribeReply,
} from './stream-types.js';

interface Position {
  epoch: number;
  seq: number;
}

/** Tracks stream positions for one near cache and drops what can no longer be trusted. */
export class StreamTracker {
  private readonly positions = new Map<number, Position>();
  /** Sequence each primary reported at the previous renewal, checked at the next one. */
  private readonly reported = new Map<number, number>();
  private readonly sources = new Map<string, number>(); // source -> incarnation of a confirmed subscription
  private primaries: readonly (string | undefined)[] = [];

  constructor(private readonly near: NearCache) {}

  /** True when a subscription at `source` is confirmed. */
  isSubscribed(source: string): boolean {
    return this.sources.has(source);
  }

  /** Sources with a confirmed subscription. */
  subscribedSources(): string[] {
    return [...this.sources.keys()];
  }

  /** A batch of events from the stream. */
  events(events: unknown): void {
    if (!Array.isArray(events)) throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'invalidation events are a list');
    for (const event of events as unknown[]) {
      if (!isInvalidationEvent(event)) {
        throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'an invalidation is [partition, epoch, seq, key, version]');
      }
      this.event(event);
    }
  }

  private event([partition, epoch, seq, key, version]: InvalidationEvent): void {
    this.near.invalidate(key, version);
    const position = this.positions.get(partition);
    if (position === undefined) this.positions.set(partition, { epoch, seq });
    else if (position.epoch !== epoch || seq > position.seq + 1) this.restart(partition, epoch, seq);
    else if (seq === position.seq + 1) position.seq = seq;
  }

  /** A (re)subscription at `source` succeeded with `reply`. */
  subscribed(source: string, reply: unknown): void {
    if (!Array.isArray(reply) || reply.length !== 3 || typeof reply[0] !== 'number' || !Array.isArray(reply[2])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a subscription reply is [incarnation, wasSubscribed, positions]');
    }
    const [incarnation, wasSubscribed, positions] = reply as SubscribeReply;
    const previous = this.sources.get(source);
    const continuous = previous === incarnation && wasSubscribed;
    this.sources.set(source, incarnation);
    const drop = new Set<number>();
    for (const [partition, epoch, seq] of positions as StreamPosition[]) {
      const position = this.positions.get(partition);
      const reported = this.reported.get(partition);
      this.reported.set(partition, seq);
      if (position === undefined) continue;
      // events and replies travel on different connections: a reply may be ahead of events in flight,
      // but one renewal later everything the previous reply counted must have arrived
      if (
        (!continuous && previous !== undefined) ||
        position.epoch !== epoch ||
        (reported !== undefined && position.seq < reported)
      ) {
        drop.add(partition);
        this.positions.set(partition, { epoch, seq });
      }
    }
    this.near.dropPartitions(drop);
  }

  /**
   * Whether a near read's reply from `source` may be kept: subscribed there
   * and in the partition's current epoch (an unknown epoch is adopted).
   */
  accept(partition: number, source: string, epoch: number, seq: number): boolean {
    if (!this.sources.has(source)) return false;
    const position = this.positions.get(partition);
    if (position === undefined) {
      this.positions.set(partition, { epoch, seq });
      return true;
    }
    if (position.epoch === epoch) return true;
    this.restart(partition, epoch, seq);
    return false;
  }

  /** The primaries by partition changed: drop partitions whose primary is another. Returns whether any did. */
  tableChanged(primaries: readonly (string | undefined)[]): boolean {
    const changed = new Set<number>();
    const length = Math.max(primaries.length, this.primaries.length);
    for (let p = 0; p < length; p++) {
      if (primaries[p] !== this.primaries[p]) {
        changed.add(p);
        this.positions.delete(p);
        this.reported.delete(p);
      }
    }
    this.primaries = [...primaries];
    this.near.dropPartitions(changed);
    return changed.size > 0;
  }

  /** The stream from `source` may have lost events (disconnect, failed renewal): drop everything. */
  lost(source: string): boolean {
    if (!this.sources.delete(source)) return false;
    this.near.clear();
    this.positions.clear();
    this.reported.clear();
    return true;
  }

  private restart(partition: number, epoch: number, seq: number): void {
    this.near.dropPartition(partition);
    this.positions.set(partition, { epoch, seq });
    this.reported.delete(partition);
  }
}
