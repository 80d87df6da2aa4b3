/**
 * Ephemeral pub/sub, like Redis PUBLISH/SUBSCRIBE: no storage, at-most-once,
 * fan-out to every subscriber on any node. Each node tells every other node
 * which channels and patterns it has subscribers for (its interest set, sent
 * whole with a version whenever it changes and to every member that joins),
 * so a publish is sent only to interested nodes, to all of them at once (the
 * transport batches one tick's messages per node into one frame).
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
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

interface Interest {
  version: number;
  channels: Set<string>;
  patterns: { source: string; regex: RegExp }[];
}

type InterestBody = [version: number, channels: string[], patterns: string[]];

const GLOB_META = /[*?[]/;

/** Cluster-wide ephemeral publish/subscribe. */
export class PubSub {
  private readonly exact = new Map<string, Set<MessageHandler>>();
  private readonly patterns = new Map<string, { regex: RegExp; handlers: Set<MessageHandler> }>();
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
      const entry = this.patterns.get(channelOrPattern) ?? {
        regex: globToRegExp(channelOrPattern),
        handlers: new Set(),
      };
      entry.handlers.add(handler);
      this.patterns.set(channelOrPattern, entry);
    } else {
      const set = this.exact.get(channelOrPattern) ?? new Set();
      set.add(handler);
      this.exact.set(channelOrPattern, set);
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
  async publish(channel: string, message: unknown): Promise<number> {
    this.checkChannel(channel);
    if (GLOB_META.test(channel)) {
      throw new ShoalError(
        'SHOAL_ARGUMENT_INVALID',
        `publish to a channel, not a pattern (${JSON.stringify(channel)})`,
      );
    }
    if (message === undefined) throw new ShoalError('SHOAL_VALUE_INVALID', 'message must not be undefined');
    this.counters.published++;
    let nodes = this.deliverLocally(channel, message) ? 1 : 0;
    const sends: Promise<unknown>[] = [];
    for (const peer of this.peers()) {
      if (peer.id === this.selfId) continue;
      const interest = this.remote.get(peer.id);
      if (interest === undefined || !matches(interest, channel)) continue;
      this.counters.sentToNodes++;
      sends.push(
        this.transport.request(peer.address, MessageKind.Publish, [channel, message], 5000).then(
          () => {
            nodes++;
          },
          () => {},
        ),
      );
    }
    await Promise.all(sends);
    return nodes;
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
    const set = this.exact.get(channelOrPattern);
    if (set?.delete(handler) && set.size === 0) this.exact.delete(channelOrPattern);
    const entry = this.patterns.get(channelOrPattern);
    if (entry?.handlers.delete(handler) && entry.handlers.size === 0) this.patterns.delete(channelOrPattern);
    this.announce();
  }

  private deliverLocally(channel: string, message: unknown): boolean {
    let delivered = false;
    const call = (handler: MessageHandler) => {
      delivered = true;
      this.counters.delivered++;
      try {
        handler(message, channel);
      } catch (err) {
        this.options.onHandlerError?.(err, channel);
      }
    };
    const set = this.exact.get(channel);
    if (set !== undefined) for (const handler of [...set]) call(handler);
    for (const { regex, handlers } of this.patterns.values()) {
      if (regex.test(channel)) for (const handler of [...handlers]) call(handler);
    }
    return delivered;
  }

  private receive(body: unknown): boolean {
    if (!Array.isArray(body) || body.length !== 2 || typeof body[0] !== 'string') {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a publish is [channel, message]');
    }
    this.counters.received++;
    return this.deliverLocally(body[0], body[1]);
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
