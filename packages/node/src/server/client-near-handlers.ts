/**
 * The client endpoint's handlers for what makes the client's cache match the
 * embedded one: its near cache (a subscription to this node's invalidation
 * stream, pushed on the same connection as the replies, so a reply and the
 * events after it arrive in order; near reads answered with the stream
 * position), read-through leases (getOrSet's single flight) and tag marks.
 */
import {
  type InvalidationEvent,
  isShoalError,
  type LoadOutcome,
  type LoadTransport,
  ManagedValue,
  MessageKind,
  type ResolvedGetOrSetOptions,
  ShoalError,
  validateTag,
  validateTags,
} from '@shoal/protocol';
import type { InvalidationSource } from '../invalidation/invalidation-source.js';
import { readableValue } from '../readthrough/freshness.js';
import type { TagRegistry } from '../tags/tag-registry.js';

/** What a connection offers these handlers. */
export interface NearConnection {
  /** Sends a one-way message on this connection (in order with replies). */
  push(kind: number, body: unknown): void;
  /** Runs `dispose` when the connection closes. */
  onDispose(dispose: () => void): void;
}

/** What these handlers need from the node. */
export interface NearHost {
  readonly id: string;
  /** The node's invalidation stream. */
  nearSource(): InvalidationSource;
  /** Tag marks, to judge tagged values before they leave the node. */
  tagRegistry(): TagRegistry;
  readonly cache: {
    get(key: string): Promise<unknown>;
    leaseLoad: LoadTransport['load'];
    leaseDone: LoadTransport['done'];
    invalidateTag(tag: string): Promise<{ nodes: number }>;
    expireTag(tag: string): Promise<{ nodes: number }>;
  };
}

/**
 * A client near read reply: [value, expiresAt, epoch, seq, cacheable, nodeId].
 * `cacheable` is false for tagged or read-through values (the client holds no
 * tag marks) and for answers this node gave without being the key's settled
 * primary (then epoch and seq are 0).
 */
export type ClientNearReply = [
  value: unknown,
  expiresAt: number,
  epoch: number,
  seq: number,
  cacheable: boolean,
  nodeId: string,
];

type Handler<C> = (body: unknown, connection: C) => unknown;

const OUTCOMES = new Set(['value', 'none', 'error']);

function shape(body: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(body) || body.length !== length) throw new ShoalError('SHOAL_PROTOCOL_INVALID', what);
  return body;
}

function key(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ShoalError('SHOAL_KEY_INVALID', 'key must be a non-empty string');
  return value;
}

/** Adds the near-cache, read-through and tag handlers to an endpoint's handler map. */
export function registerNearHandlers<C extends NearConnection>(
  handlers: Map<number, Handler<C>>,
  host: () => NearHost,
  now: () => number,
): void {
  handlers.set(MessageKind.ClientInvalidationSubscribe, (body, connection) => {
    shape(body, 0, 'an invalidation subscription is []');
    const sink = (events: InvalidationEvent[]) => connection.push(MessageKind.ClientInvalidate, events);
    const { positions, close } = host().nearSource().addSink(sink);
    connection.onDispose(close);
    return positions;
  });

  handlers.set(MessageKind.ClientNearRead, async (body): Promise<ClientNearReply> => {
    const [k] = shape(body, 1, 'a near read is [key]');
    const h = host();
    let reply: ReturnType<InvalidationSource['read']>;
    try {
      reply = h.nearSource().read(key(k));
    } catch (err) {
      // not this node's settled partition: answer through the routed read, not to be cached
      if (!isShoalError(err, 'SHOAL_CLUSTER_NOT_OWNER')) throw err;
      return [await h.cache.get(key(k)), 0, 0, 0, false, h.id];
    }
    const [stored, expiresAt, epoch, seq] = reply;
    if (stored instanceof ManagedValue)
      return [readableValue(stored, h.tagRegistry(), now()), expiresAt, epoch, seq, false, h.id];
    return [stored, expiresAt, epoch, seq, true, h.id];
  });

  handlers.set(MessageKind.ClientLoad, async (body) => {
    const [k, leaseMs, waitMs] = shape(body, 3, 'a load is [key, leaseMs, waitMs]');
    if (typeof leaseMs !== 'number' || !(leaseMs > 0) || typeof waitMs !== 'number' || !(waitMs >= 0)) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a load is [key, leaseMs, waitMs]');
    }
    const reply = await host().cache.leaseLoad(key(k), Math.min(leaseMs, 600_000), Math.min(waitMs, 60_000));
    // the client sees values, never the stored wrapper
    if (reply[0] === 'fresh' || reply[0] === 'stale') return [reply[0], unwrapStored(reply[1])];
    if (reply[0] === 'lease') return ['lease', reply[1] === null ? null : unwrapStored(reply[1]), reply[2]];
    return reply;
  });

  handlers.set(MessageKind.ClientLoadDone, async (body) => {
    const [k, token, outcome, payload, ttlMs, graceMs, tags] = shape(
      body,
      7,
      'a load report is [key, token, outcome, payload, ttlMs, graceMs, tags]',
    );
    if (
      typeof token !== 'number' ||
      !OUTCOMES.has(outcome as string) ||
      typeof ttlMs !== 'number' ||
      typeof graceMs !== 'number' ||
      ttlMs < 0 ||
      graceMs < 0
    ) {
      throw new ShoalError(
        'SHOAL_PROTOCOL_INVALID',
        'a load report is [key, token, outcome, payload, ttlMs, graceMs, tags]',
      );
    }
    validateTags(tags);
    const options: ResolvedGetOrSetOptions = {
      ttlMs,
      graceMs,
      timeoutMs: undefined,
      hardTimeoutMs: undefined,
      tags: [...tags],
    };
    await host().cache.leaseDone(key(k), token, outcome as LoadOutcome, payload, options);
    return true;
  });

  handlers.set(MessageKind.ClientTagMark, (body) => {
    const [tag, op] = shape(body, 2, 'a tag mark is [tag, delete | expire]');
    validateTag(tag);
    if (op !== 'delete' && op !== 'expire')
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a tag mark op is delete or expire');
    return op === 'delete' ? host().cache.invalidateTag(tag) : host().cache.expireTag(tag);
  });
}

function unwrapStored(stored: unknown): unknown {
  return stored instanceof ManagedValue ? stored.value : stored;
}
