/**
 * Shoal's wire frames, shared by node and client. One WebSocket binary message
 * is one frame: a msgpack array of messages, so everything one tick sends to a
 * peer costs one system call.
 *
 *   frame   = [ message, ... ]                    1 .. maxMessagesPerFrame
 *   message = [ kind, id, body ]                  kind, id: non-negative integers
 *             kind 0 = reply-ok   (id = request id, body = result)
 *             kind 1 = reply-error(id = request id, body = { code, message, details? })
 *             kind >= 2 = a request (id > 0 wants a reply; id 0 is one-way)
 */
import { Packr } from 'msgpackr';
import { ShoalError } from './errors.js';

/**
 * Message kind numbers. Append only: the numbers are part of the protocol.
 * Ranges by subsystem: 2-20 cluster and log core, 21-39 cache invalidation,
 * near cache, tags and read-through, 40-59 the client endpoint, 60-69 log
 * additions, 70-79 snapshots and warm-up.
 */
export const MessageKind = {
  ReplyOk: 0,
  ReplyError: 1,
  /** Membership traffic; the body is a membership message. */
  Membership: 2,
  /** Cache operation routed to a partition owner: body [op, partition, tableVersion, hops, args]. */
  CacheOp: 3,
  /** Replication of entries from a primary to a replica. */
  Replicate: 4,
  /** Rebalancing: stream part of a partition from an old owner. */
  MigratePull: 5,
  /** Anti-entropy: digests of a partition's entries. */
  Digest: 6,
  /** Fetch the replica records of some keys (read repair, reads during migration). */
  Records: 7,
  /** One page of a node-local scan (cluster-wide scan walks the nodes). */
  Scan: 8,
  /** Rebalancing: a new owner finished receiving partitions; old owners may drop them. */
  MigrateDone: 9,
  /** Node-local statistics (cluster-wide stats). */
  Stats: 10,
  /** Ephemeral pub/sub: a published message for this node's subscribers: [channel, message]. */
  Publish: 11,
  /** Ephemeral pub/sub: one synchronous run's publishes for this node's subscribers: [[channel, message], ...]. */
  PublishBatch: 34,
  /** Ephemeral pub/sub: a node's whole interest set: [version, channels, patterns]. */
  Interest: 12,
  /** Log: append messages at a partition's leader: [topic, partition, columns, acks] (see node log/append-wire.ts). */
  LogAppend: 13,
  /** Log: leader to follower, records from firstOffset: [topic, partition, firstOffset, timestamps, columns, options, resetTo?]. */
  LogReplicate: 14,
  /** Log: read records: [topic, partition, fromOffset, maxMessages]. */
  LogRead: 15,
  /** Log: a replica's start and end offsets: [topic, partition]. */
  LogEnd: 16,
  /** Log: hand deliveries of a consumer group to a member: [topic, partition, group, member, max, from]. */
  LogTake: 17,
  /** Log: acks and nacks of deliveries: [topic, partition, group, acks, nacks]. */
  LogAck: 18,
  /** Log: a consumer group's state, leader to followers: [topic, partition, group, snapshot]. */
  LogGroupSync: 19,
  /** Log: a previous holder tells a new leader that it holds a partition: [topic, partition, options]. */
  LogHandoff: 20,
  /** Invalidation stream, primary to subscriber, one-way: [incarnation, [[partition, epoch, seq, key, version], ...]]. */
  Invalidate: 21,
  /** A near cache subscribes (and renews): [leaseMs]. Reply: [incarnation, [[partition, epoch, seq], ...]]. */
  InvalidationSubscribe: 22,
  /** A near-cache read at the primary: [key]. Reply: [value, expiresAt, epoch, seq, hot]. */
  NearRead: 23,
  /** A tag mark for every member: [tag, 'delete' | 'expire', version]. */
  TagMark: 24,
  /** Every tag mark a member holds, to a member that joined: [[tag, deletedAt, expiredAt], ...]. */
  TagSync: 25,
  /** Read-through at the primary: [key, leaseMs, waitMs]. Reply: [state, value, token]. */
  Load: 26,
  /** The holder of a read-through lease reports: [key, token, ok, value | message, ttlMs, graceMs, tags]. */
  LoadDone: 27,
  /** Client read-through lease request, answered like Load with plain values: [key, leaseMs, waitMs]. */
  ClientLoad: 28,
  /** Client lease holder's report: [key, token, outcome, payload, ttlMs, graceMs, tags]. */
  ClientLoadDone: 29,
  /** Client tag invalidation: [tag, 'delete' | 'expire']. Reply: { nodes }. */
  ClientTagMark: 30,
  /** Client subscribes to this node's invalidation stream: []. Reply: [incarnation, true, positions]. */
  ClientInvalidationSubscribe: 31,
  /** Node to client, one-way: a batch of invalidation events [[partition, epoch, seq, key, version], ...]. */
  ClientInvalidate: 32,
  /** Client near read: [key]. Reply: [value, expiresAt, epoch, seq, cacheable, nodeId]. */
  ClientNearRead: 33,
  /** Client endpoint: first request of a client: [protocolVersion]. Reply: { nodeId, protocol, table }. */
  ClientHello: 40,
  /** Client endpoint: a cache op run through the node's routing: [op, args, consistency | null, tableId]. */
  ClientCache: 41,
  /** Client endpoint, one-way to the client: the node's partition table (sent when the client's is older). */
  ClientTopology: 42,
  /** Client endpoint: one page of a cluster-wide scan: [cursor, match, prefix, count]. */
  ClientScan: 43,
  /** Client endpoint: create a topic: [topic, options]. */
  ClientLogCreateTopic: 44,
  /** Client endpoint: append one message: [topic, value, options]. Reply: AppendReceipt. */
  ClientLogAppend: 45,
  /** Client endpoint: read records: [topic, partition, fromOffset, maxMessages]. */
  ClientLogRead: 46,
  /** Client endpoint: a topic's resolved options: [topic]. */
  ClientLogTopic: 47,
  /** Client endpoint: deliveries for a group member: [topic, partition, group, member, max, from, settings, waitMs]. */
  ClientLogTake: 48,
  /** Client endpoint: acks, nacks and lease extensions: [topic, partition, group, acks, nacks, extensions]. */
  ClientLogSettle: 49,
  /** Client endpoint: subscribe this connection: [subscriptionId, channelOrPattern]. */
  ClientSubscribe: 50,
  /** Client endpoint: drop a subscription: [subscriptionId]. */
  ClientUnsubscribe: 51,
  /** Client endpoint: publish: [channel, message]. Reply: nodes reached. */
  ClientPublish: 52,
  /** Client endpoint, one-way to the client: a published message: [subscriptionId, channel, message]. */
  ClientMessage: 53,
  /** Client endpoint: the endpoint's counters on this node. */
  ClientStats: 54,
  /** Client endpoint: a get served from this node's copy when it owns the key (maybe stale): [key]. */
  ClientReplicaGet: 55,
  /** Snapshot export (cluster scope): a page of the keys a node is primary for: [cursor, maxItems]. */
  SnapshotPage: 70,
} as const;

/**
 * A node's reply outbox holding this many messages leaves at once instead of
 * at the end of the tick. With one frame per tick each way, two processes
 * talking over a socket take turns: the client idles while the node works
 * through the whole batch, then the other way round. Replies leaving in parts
 * let the client work on the first while the node computes the rest (gets at
 * 64 in flight on one node: 192k -> 340k/s). A write costs 5-10 µs on these
 * VMs, so the parts stay large. Requests are not split: the client sends one
 * tick's calls in one frame (its auto-pipelining contract).
 */
export const EAGER_FLUSH_MESSAGES = 32;

/** Frames from this size up leave a dialing socket with an all-zero mask; smaller ones with a fixed nonzero one. */
export const ZERO_MASK_FROM_BYTES = 8 * 1024;

/**
 * The masks of one Shoal WebSocket that dials out (a client to a node, a node
 * to a peer), chosen per frame by its size: call `next(frame.length)` right
 * before `ws.send(frame)`; `generateMask` is the socket's ws option. Masking
 * protects HTTP intermediaries from frames a browser page crafts (RFC 6455
 * section 10.3); these sockets carry only Shoal's own frames, so the mask need
 * not be random, and it picks the cheaper way ws has to send:
 *
 * - a zero mask: ws sends the payload as it is, no copy, but header and
 *   payload as two buffers (cork, two writes, one writev);
 * - any other mask: ws copies the masked payload behind the header and makes
 *   one write.
 *
 * A large frame is cheaper without the copy. A small one is cheaper in one
 * write: a sequential get round trip measured p99 57-64 µs with one write
 * against 84-87 µs with the writev (bare ws echo, interleaved), and the copy
 * of a frame of a few hundred bytes costs nothing measurable. If ws ever asks
 * for a mask later than the send (it queues frames only while compressing,
 * which Shoal sockets never do), the frame still leaves correctly masked.
 */
export class DialMask {
  private zero = false;

  /** The socket's `generateMask` option. */
  readonly generateMask = (mask: Uint8Array): void => {
    if (this.zero) {
      mask.fill(0);
      return;
    }
    mask[0] = 0x53;
    mask[1] = 0x48;
    mask[2] = 0x4f;
    mask[3] = 0x4c;
  };

  /** Chooses the mask of the frame about to be sent. */
  next(frameBytes: number): void {
    this.zero = frameBytes >= ZERO_MASK_FROM_BYTES;
  }
}

/** A decoded message: [kind, id, body]. */
export type WireMessage = [kind: number, id: number, body: unknown];

// Plain msgpack (no records extension): any msgpack library in any language can read frames.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** Encodes messages into one frame. */
export function encodeFrame(messages: readonly WireMessage[]): Buffer {
  return packr.pack(messages);
}

/**
 * Decodes and checks a frame. Throws SHOAL_PROTOCOL_INVALID for anything that
 * is not an array of 1..maxMessages [kind, id, body] messages.
 */
export function decodeFrame(frame: Uint8Array, maxMessages = 100_000): WireMessage[] {
  let decoded: unknown;
  try {
    decoded = packr.unpack(frame);
  } catch (err) {
    throw new ShoalError('SHOAL_PROTOCOL_INVALID', `frame does not decode: ${(err as Error).message}`);
  }
  if (!Array.isArray(decoded) || decoded.length === 0 || decoded.length > maxMessages) {
    throw new ShoalError('SHOAL_PROTOCOL_INVALID', `a frame is an array of 1..${maxMessages} messages`);
  }
  for (const message of decoded) {
    if (
      !Array.isArray(message) ||
      message.length !== 3 ||
      !Number.isSafeInteger(message[0]) ||
      message[0] < 0 ||
      !Number.isSafeInteger(message[1]) ||
      message[1] < 0
    ) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a message is [kind, id, body] with integer kind and id');
    }
  }
  return decoded as WireMessage[];
}
