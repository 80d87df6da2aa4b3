/**
 * A consumer group member running in the client: one fetch loop per
 * partition (a long-poll ClientLogTake the node routes to the partition
 * leader), handlers with bounded concurrency, acks and nacks batched per
 * partition per tick. Deliveries are held by lease at the leader under this
 * member's id, so a reconnect (to the same or another node) loses nothing:
 * fetches resume, and acks of handlers that finished meanwhile are retried
 * until the leader takes them. An ack the leader refuses (the lease expired
 * and the message went to someone else) is reported, never committed twice.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type ConsumedMessage,
  type ConsumeOptions,
  type ConsumerHandle,
  type GroupSettings,
  isShoalError,
  MessageKind,
  resolveConsumeOptions,
  ShoalError,
} from '@shoal/protocol';
import type { ShoalClient } from './shoal-client.js';

/** Events of a consumer. */
export type RemoteConsumerEventMap = {
  /** A fetch or ack failed (retried); the consumer keeps running. */
  error: [err: Error];
};

interface Delivery {
  deliveryId: string;
  offset: number;
  deliveries: number;
  record: { value: unknown; key?: string; id?: string; headers?: Record<string, string>; timestamp: number };
}

type Nack = [deliveryId: string, delayMs: number | null, reason: string | null];

// one long poll waits at most this long at the leader; the call's budget adds the client timeout on top
const WAIT_MS = 1000;

/** A running member of a consumer group, in the client. `close()` stops it. */
export class RemoteConsumer<V = unknown> extends EventEmitter<RemoteConsumerEventMap> implements ConsumerHandle {
  readonly counters = { handled: 0, acked: 0, nacked: 0 };
  /** Id of this member at the leaders. */
  readonly memberId = `client/${randomUUID().slice(0, 8)}`;
  lastError: Error | undefined;
  private running = false;
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  private loops: Promise<void> = Promise.resolve();
  private readonly pendingAcks = new Map<number, { acks: string[]; nacks: Nack[] }>();
  private readonly flushing = new Set<Promise<void>>();
  private readonly settings: GroupSettings;
  private readonly concurrency: number;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: ShoalClient<V>,
    readonly topic: string,
    private readonly options: ConsumeOptions,
    private readonly handler: (message: ConsumedMessage<V>) => unknown,
  ) {
    super();
    ({ concurrency: this.concurrency, settings: this.settings } = resolveConsumeOptions(options, handler));
  }

  /** @internal */
  start(): void {
    this.running = true;
    this.client.onClosing(() => this.close());
    this.loops = this.run();
  }

  private async run(): Promise<void> {
    let partitions: number | undefined;
    let backoff = 50;
    while (this.running && partitions === undefined) {
      try {
        const options = (await this.client.call(MessageKind.ClientLogTopic, [this.topic], undefined, {
          signal: this.abort.signal,
        })) as { partitions: number };
        partitions = options.partitions;
      } catch (err) {
        if (!this.running) return;
        this.fail(err as Error);
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    if (partitions === undefined) return;
    await Promise.all(Array.from({ length: partitions }, (_, p) => this.fetchLoop(p)));
  }

  /** Stops fetching, lets running handlers finish (up to 5 s) and sends their acks. Safe twice. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    for (const wake of this.slotWaiters.splice(0)) wake();
    await this.loops;
    const deadline = Date.now() + 5000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.flushAll();
    await Promise.allSettled([...this.flushing]);
  }

  // an 'error' event without a listener would throw: failures here are retried, so only report them
  private fail(err: Error): void {
    this.lastError = err;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async slot(): Promise<void> {
    while (this.running && this.inFlight >= this.concurrency) await new Promise<void>((r) => this.slotWaiters.push(r));
  }

  private release(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  private async fetchLoop(partition: number): Promise<void> {
    let backoff = 50;
    while (this.running) {
      await this.slot();
      if (!this.running) return;
      const room = Math.max(1, this.concurrency - this.inFlight);
      let result: { deliveries: Delivery[]; paused: string | null };
      try {
        result = (await this.client.call(
          MessageKind.ClientLogTake,
          [
            this.topic,
            partition,
            this.options.group,
            this.memberId,
            room,
            this.options.from ?? 'latest',
            this.settings,
            WAIT_MS,
          ],
          undefined,
          { timeout: this.client.options.timeoutMs + WAIT_MS, signal: this.abort.signal },
        )) as typeof result;
        backoff = 50;
      } catch (err) {
        if (!this.running) return;
        this.fail(err as Error);
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, 2000);
        continue;
      }
      for (const d of result.deliveries) {
        this.inFlight++;
        this.handle(partition, d).finally(() => this.release());
        if (this.inFlight >= this.concurrency) await this.slot();
      }
    }
  }

  private async handle(partition: number, d: Delivery): Promise<void> {
    let nackDelay: number | null | undefined;
    const message: ConsumedMessage<V> = {
      value: d.record.value as V,
      key: d.record.key,
      id: d.record.id,
      headers: d.record.headers ?? {},
      partition,
      offset: d.offset,
      timestamp: d.record.timestamp,
      deliveries: d.deliveries,
      nack(delayMs?: number) {
        nackDelay = delayMs ?? null;
      },
      extend: async (ms: number) => {
        if (!Number.isSafeInteger(ms) || ms < 1) {
          throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'extend takes a positive number of ms');
        }
        const { errors } = await this.settle(partition, [], [], [[d.deliveryId, ms]]);
        if (errors.length > 0) {
          throw new ShoalError('SHOAL_LOG_STALE_DELIVERY', `the lease could not be extended: ${errors.join(', ')}`);
        }
      },
    };
    this.counters.handled++;
    try {
      await this.handler(message);
      if (nackDelay === undefined) this.queue(partition, d.deliveryId, undefined, null);
      else this.queue(partition, d.deliveryId, nackDelay, 'nacked by the handler');
    } catch (err) {
      this.queue(partition, d.deliveryId, null, err instanceof Error ? err.message : String(err));
    }
  }

  private settle(
    partition: number,
    acks: string[],
    nacks: Nack[],
    extensions: [string, number][] = [],
  ): Promise<{ errors: string[] }> {
    return this.client.call(
      MessageKind.ClientLogSettle,
      [this.topic, partition, this.options.group, acks, nacks, extensions],
      undefined,
    ) as Promise<{ errors: string[] }>;
  }

  /** Queues an ack (delay undefined) or a nack; flushed once per tick per partition. */
  private queue(partition: number, deliveryId: string, delay: number | null | undefined, reason: string | null): void {
    let pending = this.pendingAcks.get(partition);
    if (pending === undefined) {
      pending = { acks: [], nacks: [] };
      this.pendingAcks.set(partition, pending);
      setImmediate(() => this.track(this.flush(partition)));
    }
    if (delay === undefined) {
      pending.acks.push(deliveryId);
      this.counters.acked++;
    } else {
      pending.nacks.push([deliveryId, delay, reason]);
      this.counters.nacked++;
    }
  }

  private track(flush: Promise<void>): void {
    this.flushing.add(flush);
    flush.finally(() => this.flushing.delete(flush));
  }

  /**
   * Sends one partition's acks and nacks; a retryable failure (connection
   * lost mid-flight) is retried until the lease would have expired anyway.
   */
  private async flush(partition: number): Promise<void> {
    const pending = this.pendingAcks.get(partition);
    this.pendingAcks.delete(partition);
    if (pending === undefined || (pending.acks.length === 0 && pending.nacks.length === 0)) return;
    const deadline = Date.now() + this.settings.ackTimeoutMs;
    for (let backoff = 20; ; backoff = Math.min(backoff * 2, 1000)) {
      try {
        const { errors } = await this.settle(partition, pending.acks, pending.nacks);
        if (errors.length > 0) {
          this.fail(
            new ShoalError(
              'SHOAL_LOG_STALE_DELIVERY',
              `${errors.length} acks were refused: ${[...new Set(errors)].join(', ')}`,
            ),
          );
        }
        return;
      } catch (err) {
        this.fail(err as Error);
        const retryable = isShoalError(err) && err.retryable && !isShoalError(err, 'SHOAL_CLIENT_CLOSED');
        if (!retryable || Date.now() + backoff >= deadline) return;
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  private async flushAll(): Promise<void> {
    await Promise.allSettled([...this.pendingAcks.keys()].map((p) => this.flush(p)));
  }
}
