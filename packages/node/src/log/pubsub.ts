/**
 * Ephemeral pub/sub, like Redis PUBLISH/SUBSCRIBE: no storage, at-most-once,
 * fan-out to every subscriber on any node. Each node tells every other node
 * which channels and patterns it has subscribers for (its interest set, sent
 * whole with a version whenever it changes and to every member that joins),
 * so a publish is sent only to interested nodes, to all of them at once. The
 * publishes of one synchronous run to one node travel as one PublishBatch
 * request with one reply (a request and a reply per message cost more than
 * the delivery itself).
 */
import { isShoalError, MessageKind, ShoalError } from '@shoal/protocol';
import { globToRegExp } from '../store/glob.js';
import type { PeerTransport } from '../transport/peer-transport.js';

/** Receives a published message. */
export type MessageHandler = (message: unknown, channel: string) => void;

/** A node to talk to. */
export interface PubSubPeer {
  id: string;
  address: string;
}

/** Settings of pub/sub. */
export interface PubSubOptions {
  /** Longest channel name, in characters. */
  maxChannelLength: number;
  /** Called when a handler throws (the message still reaches the other handlers). */
  onHandlerError?: (err: unknown, channel: string) => void;
}

/** One publish waiting for the nodes it was sent to. */
interface PublishTicket {
  nodes: number;
  waiting: number;
  resolve: (nodes: number) => void;
}

/** This synchronous run's publishes to one node. */
interface PeerBatch {
  readonly address: string;
  readonly items: [channel: string, message: unknown][];
  readonly tickets: PublishTicket[];
}

const noResolve = () => {};

/** One node's answer for a publish: resolves it once every node it was sent to has answered. */
function settle(ticket: PublishTicket, reached: boolean): void {
  if (reached) ticket.nodes++;
  if (--ticket.waiting === 0) ticket.resolve(ticket.nodes);
}
const MAX_BATCH_MESSAGES = 1000;

interface Interest {
  version: number;
  channels: Set<string>;
  patterns: { source: string; regex: RegExp }[];
}

type InterestBody = [version: number, channels: string[], patterns: string[]];

const GLOB_META = /[*?[]/;

/** Cluster-wide ephemeral publish/subscribe. */
export class PubSub {
  // handler lists are replaced, never changed in place: delivery walks them without a copy
  private readonly exact = new Map<string, readonly MessageHandler[]>();
  private readonly patterns = new Map<string, { regex: RegExp; handlers: readonly MessageHandler[] }>();
  /** Publishes of this synchronous run, by node id. */
  private readonly outgoing = new Map<string, PeerBatch>();
  private readonly remote = new Map<string, Interest>(); // node id -> its interest
  private version = 0;
  /** Messages delivered to local handlers and sent to other nodes (for stats and tests). */
  readonly counters = { published: 0, sentToNodes: 0, received: 0, delivered: 0 };

  constructor(
    private readonly selfId: string,
    private readonly transport: PeerTransport,
    private readonly peers: () => readonly PubSubPeer[],
    private readonly options: PubSubOptions,
  ) {
    transport.handle(MessageKind.Publish, (body) => this.receive(body));
    transport.handle(MessageKind.PublishBatch, (body) => this.receiveBatch(body));
    transport.handle(MessageKind.Interest, (body, from) => this.learn(from.remoteId, body));
  }

  /**
   * Subscribes `handler` to a channel, or to a pattern when the name has glob
   * characters (`orders.*`, `user:?`, `[ab]*`). Returns the unsubscribe function.
   */
  subscribe(channelOrPattern: string, handler: MessageHandler): () => void {
    this.checkChannel(channelOrPattern);
    if (typeof handler !== 'function') throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'handler must be a function');
    if (GLOB_META.test(channelOrPattern)) {
      const entry = this.patterns.get(channelOrPattern);
      const handlers = entry?.handlers ?? [];
      if (!handlers.includes(handler)) {
        this.patterns.set(channelOrPattern, {
          regex: entry?.regex ?? globToRegExp(channelOrPattern),
          handlers: [...handlers, handler],
        });
      }
    } else {
      const handlers = this.exact.get(channelOrPattern) ?? [];
      if (!handlers.includes(handler)) this.exact.set(channelOrPattern, [...handlers, handler]);
    }
    this.announce();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.unsubscribe(channelOrPattern, handler);
    };
  }

  /**
   * Publishes `message` to every subscriber of `channel` on any node. Resolves
   * with the number of nodes it was delivered to (this one included when it
   * has subscribers). At-most-once: a node that is unreachable misses it.
   */
  publish(channel: string, message: unknown): Promise<number> {
    try {
      this.checkChannel(channel);
      if (GLOB_META.test(channel)) {
        throw new ShoalError(
          'SHOAL_ARGUMENT_INVALID',
          `publish to a channel, not a pattern (${JSON.stringify(channel)})`,
        );
      }
      if (message === undefined) throw new ShoalError('SHOAL_VALUE_INVALID', 'message must not be undefined');
    } catch (err) {
      return Promise.reject(err);
    }
    this.counters.published++;
    const nodes = this.deliverLocally(channel, message) ? 1 : 0;
    let ticket: PublishTicket | undefined;
    for (const peer of this.peers()) {
      if (peer.id === this.selfId) continue;
      const interest = this.remote.get(peer.id);
      if (interest === undefined || !matches(interest, channel)) continue;
      this.counters.sentToNodes++;
      ticket ??= { nodes, waiting: 0, resolve: noResolve };
      ticket.waiting++;
      const batch = this.batchFor(peer);
      batch.items.push([channel, message]);
      batch.tickets.push(ticket);
    }
    if (ticket === undefined) return Promise.resolve(nodes);
    const pending = ticket;
    return new Promise((resolve) => {
      pending.resolve = resolve;
    });
  }

  /** The batch to `peer` of this synchronous run; it leaves at the next microtask checkpoint. */
  private batchFor(peer: PubSubPeer): PeerBatch {
    let batch = this.outgoing.get(peer.id);
    // a long synchronous burst goes in several batches: frames stay well under maxFrameBytes
    if (batch !== undefined && batch.items.length >= MAX_BATCH_MESSAGES) {
      this.sendBatch(peer.id);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { address: peer.address, items: [], tickets: [] };
      this.outgoing.set(peer.id, batch);
      queueMicrotask(() => this.sendBatch(peer.id));
    }
    return batch;
  }

  private sendBatch(peerId: string): void {
    const batch = this.outgoing.get(peerId);
    if (batch === undefined) return;
    this.outgoing.delete(peerId);
    const settleAll = (reached: boolean) => {
      for (const ticket of batch.tickets) settle(ticket, reached);
    };
    this.transport.request(batch.address, MessageKind.PublishBatch, batch.items, 5000).then(
      () => settleAll(true),
      (err: unknown) => {
        if (isShoalError(err, 'SHOAL_PROTOCOL_UNKNOWN_KIND')) this.sendOneByOne(batch);
        else settleAll(false);
      },
    );
  }

  /** A node of an earlier version, without PublishBatch: each message as its own Publish. */
  private sendOneByOne(batch: PeerBatch): void {
    batch.items.forEach((item, i) => {
      const ticket = batch.tickets[i] as PublishTicket;
      this.transport.request(batch.address, MessageKind.Publish, item, 5000).then(
        () => settle(ticket, true),
        () => settle(ticket, false),
      );
    });
  }

  /** Channels and patterns this node has subscribers for. */
  interest(): { channels: string[]; patterns: string[] } {
    return { channels: [...this.exact.keys()], patterns: [...this.patterns.keys()] };
  }

  /** Sends this node's interest to one member (it just joined) or to all. */
  announce(to?: PubSubPeer): void {
    // wall-clock based, so a restarted node's sets still win over what it sent in its previous life
    if (to === undefined) this.version = Math.max(this.version + 1, Date.now());
    const body: InterestBody = [this.version, [...this.exact.keys()], [...this.patterns.keys()]];
    for (const peer of to === undefined ? this.peers() : [to]) {
      if (peer.id !== this.selfId) this.transport.send(peer.address, MessageKind.Interest, body);
    }
  }

  /** Forgets a member that left or died. */
  forget(nodeId: string): void {
    this.remote.delete(nodeId);
  }

  private unsubscribe(channelOrPattern: string, handler: MessageHandler): void {
    const handlers = this.exact.get(channelOrPattern);
    if (handlers !== undefined) {
      const rest = handlers.filter((h) => h !== handler);
      if (rest.length === 0) this.exact.delete(channelOrPattern);
      else this.exact.set(channelOrPattern, rest);
    }
    const entry = this.patterns.get(channelOrPattern);
    if (entry !== undefined) {
      const rest = entry.handlers.filter((h) => h !== handler);
      if (rest.length === 0) this.patterns.delete(channelOrPattern);
      else this.patterns.set(channelOrPattern, { regex: entry.regex, handlers: rest });
    }
    this.announce();
  }

  private deliverLocally(channel: string, message: unknown): boolean {
    let delivered = false;
    const handlers = this.exact.get(channel);
    if (handlers !== undefined) {
      for (const handler of handlers) this.call(handler, channel, message);
      delivered = true;
    }
    if (this.patterns.size > 0) {
      for (const entry of this.patterns.values()) {
        if (!entry.regex.test(channel)) continue;
        for (const handler of entry.handlers) this.call(handler, channel, message);
        delivered = true;
      }
    }
    return delivered;
  }

  private call(handler: MessageHandler, channel: string, message: unknown): void {
    this.counters.delivered++;
    try {
      handler(message, channel);
    } catch (err) {
      this.options.onHandlerError?.(err, channel);
    }
  }

  private receive(body: unknown): boolean {
    if (!Array.isArray(body) || body.length !== 2 || typeof body[0] !== 'string') {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a publish is [channel, message]');
    }
    this.counters.received++;
    return this.deliverLocally(body[0], body[1]);
  }

  /** A PublishBatch: checked whole before any delivery, so a malformed one delivers nothing. */
  private receiveBatch(body: unknown): number {
    if (!Array.isArray(body) || !body.every((m) => Array.isArray(m) && m.length === 2 && typeof m[0] === 'string')) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a publish batch is [[channel, message], ...]');
    }
    let delivered = 0;
    for (const [channel, message] of body as [string, unknown][]) {
      this.counters.received++;
      if (this.deliverLocally(channel, message)) delivered++;
    }
    return delivered;
  }

  private learn(nodeId: string, body: unknown): void {
    if (
      !Array.isArray(body) ||
      body.length !== 3 ||
      !Number.isSafeInteger(body[0]) ||
      !Array.isArray(body[1]) ||
      !Array.isArray(body[2]) ||
      ![...body[1], ...body[2]].every((c) => typeof c === 'string' && c.length <= this.options.maxChannelLength)
    ) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'an interest is [version, channels, patterns]');
    }
    const [version, channels, patterns] = body as InterestBody;
    const known = this.remote.get(nodeId);
    // sets are sent whole; an older one arriving late must not replace a newer one
    if (known !== undefined && known.version > version) return;
    this.remote.set(nodeId, {
      version,
      channels: new Set(channels),
      patterns: patterns.map((source) => ({ source, regex: globToRegExp(source) })),
    });
  }

  private checkChannel(channel: unknown): asserts channel is string {
    if (typeof channel !== 'string' || channel.length === 0 || channel.length > this.options.maxChannelLength) {
      throw new ShoalError(
        'SHOAL_ARGUMENT_INVALID',
        `channel must be a string of 1..${this.options.maxChannelLength} characters`,
        { channel: String(channel).slice(0, 100) },
      );
    }
  }
}

function matches(interest: Interest, channel: string): boolean {
  if (interest.channels.has(channel)) return true;
  for (const { regex } of interest.patterns) if (regex.test(channel)) return true;
  return false;
}
