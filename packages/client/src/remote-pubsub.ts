/**
 * `shoal.pubsub`: ephemeral publish/subscribe through the client. A
 * subscription lives on the control connection under a client-chosen id; the
 * node pushes matching messages as ClientMessage [id, channel, message]. When
 * the control connection changes (reconnect, failover) every subscription is
 * sent again. At-most-once, like the embedded API: messages published while
 * no connection is open are not seen.
 */
import { MessageKind, type PubSubApi, ShoalError } from '@shoal/protocol';
import type { ShoalClient } from './shoal-client.js';

/** Unsubscribes; `ready` resolves once the node has the subscription. */
export type Unsubscribe = (() => void) & { ready: Promise<void> };

interface Subscription<V> {
  channel: string;
  handler: (message: V, channel: string) => void;
}

/** Cluster-wide publish/subscribe, through the client. */
export class RemotePubSub<V = unknown> implements PubSubApi<V> {
  private readonly subscriptions = new Map<number, Subscription<V>>();
  private nextId = 1;

  constructor(private readonly client: ShoalClient<V>) {}

  /** Publishes to a channel; resolves with the number of nodes that had subscribers for it. */
  publish(channel: string, message: V): Promise<number> {
    return this.client.call(MessageKind.ClientPublish, [channel, message], undefined) as Promise<number>;
  }

  /**
   * Subscribes `handler` to a channel or glob pattern (`prices.*`). Returns the
   * unsubscribe function; its `ready` promise resolves once the node has it.
   */
  subscribe(channelOrPattern: string, handler: (message: V, channel: string) => void): Unsubscribe {
    if (typeof channelOrPattern !== 'string' || channelOrPattern.length === 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'subscribe needs a channel or pattern');
    }
    if (typeof handler !== 'function') throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'handler must be a function');
    const id = this.nextId++;
    this.subscriptions.set(id, { channel: channelOrPattern, handler });
    const ready = this.send(id, channelOrPattern);
    ready.catch(() => {}); // a later reconnect subscribes again; callers may still await it
    const unsubscribe = (() => {
      if (!this.subscriptions.delete(id)) return;
      this.client.call(MessageKind.ClientUnsubscribe, [id], undefined).catch(() => {});
    }) as Unsubscribe;
    unsubscribe.ready = ready;
    return unsubscribe;
  }

  /** @internal a ClientMessage push. */
  deliver(body: unknown): void {
    if (!Array.isArray(body) || body.length !== 3) return;
    const [id, channel, message] = body as [number, string, V];
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined) return;
    try {
      subscription.handler(message, channel);
    } catch {
      // a throwing handler must not break the connection's frame loop (as with the embedded API)
    }
  }

  /** @internal the control connection changed: subscribe everything again. */
  resubscribe(): void {
    for (const [id, s] of this.subscriptions) this.send(id, s.channel).catch(() => {});
  }

  private send(id: number, channel: string): Promise<void> {
    return this.client.call(MessageKind.ClientSubscribe, [id, channel], undefined).then(() => {});
  }
}
