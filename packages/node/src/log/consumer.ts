/**
 * A member of a consumer group: one fetch loop per partition of the topic,
 * each asking the partition's leader for deliveries (a long poll when there is
 * nothing), running the handler with bounded concurrency, and batching acks
 * and nacks per partition per tick. A handler that returns acks its message;
 * one that throws nacks it (redelivered with backoff); `message.nack(delayMs)`
 * asks for a redelivery after exactly that delay.
 */
import { EventEmitter } from 'node:events';
import { type ConsumedMessage, type ConsumeOptions, resolveConsumeOptions, ShoalError } from '@shoal/protocol';
import type { MessageLog } from './message-log.js';
import type { GroupSettings } from './partition-replica.js';

/** Options of `node.log.consume`. */
/** What a handler receives. */
export type { ConsumedMessage, ConsumeOptions } from '@shoal/protocol';

/** Events of a consumer. */
export type ConsumerEventMap = {
  /** A fetch or ack failed (retried); the consumer keeps running. */
  error: [err: Error];
  /** The group stopped getting new messages on a partition: too many unacked. */
  paused: [detail: { partition: number; reason: string }];
  resumed: [detail: { partition: number }];
};

/** A running member of a consumer group. `close()` stops it. */
export class Consumer extends EventEmitter<ConsumerEventMap> {
  private running = false;
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly pendingAcks = new Map<number, { acks: string[]; nacks: [string, number | null, string | null][] }>();
  private readonly closeListeners: (() => void)[] = [];
  private readonly paused = new Set<number>();
  private readonly settings: GroupSettings;
  private readonly concurrency: number;
  /** Messages handled, acked and nacked by this member. */
  readonly counters = { handled: 0, acked: 0, nacked: 0 };
  /** The last fetch or ack failure (also emitted as 'error' when someone listens). */
  lastError: Error | undefined;

  constructor(
    private readonly log: MessageLog,
    readonly topic: string,
    private readonly options: ConsumeOptions,
    private readonly handler: (message: ConsumedMessage) => unknown,
    readonly memberId: string,
  ) {
    super();
    ({ concurrency: this.concurrency, settings: this.settings } = resolveConsumeOptions(options, handler));
  }

  // an 'error' event without a listener would throw: failures here are retried, so only report them
  private fail(err: Error): void {
    this.lastError = err;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** @internal */
  start(): void {
    this.running = true;
    this.loops.push(
      this.log.topicOptions(this.topic).then(
        (t) => {
          const loops = Array.from({ length: t.partitions }, (_, p) => this.fetchLoop(p));
          return Promise.all(loops).then(() => {});
        },
        (err: Error) => {
          this.fail(err);
        },
      ),
    );
  }

  /** @internal */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Stops fetching, lets running handlers finish, sends their acks. Safe twice. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of this.slotWaiters.splice(0)) wake();
    await Promise.allSettled(this.loops);
    const deadline = Date.now() + 5000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.flushAll();
    for (const listener of this.closeListeners) listener();
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
      let result: Awaited<ReturnType<MessageLog['take']>>;
      try {
        result = await this.log.take(
          this.topic,
          partition,
          this.options.group,
          this.memberId,
          room,
          this.options.from ?? 'latest',
          this.settings,
          1000,
        );
        backoff = 50;
      } catch (err) {
        if (!this.running) return;
        this.fail(err as Error);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
        continue;
      }
      this.notePause(partition, result.paused);
      for (const d of result.deliveries) {
        this.inFlight++;
        this.run(partition, d).finally(() => this.release());
        if (this.inFlight >= this.concurrency) await this.slot();
      }
    }
  }

  private notePause(partition: number, reason: string | null): void {
    if (reason !== null && !this.paused.has(partition)) {
      this.paused.add(partition);
      this.emit('paused', { partition, reason });
    } else if (reason === null && this.paused.delete(partition)) {
      this.emit('resumed', { partition });
    }
  }

  private async run(
    partition: number,
    d: Awaited<ReturnType<MessageLog['take']>>['deliveries'][number],
  ): Promise<void> {
    let nackDelay: number | null | undefined;
    const message: ConsumedMessage = {
      value: d.record.value,
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
        if (!Number.isSafeInteger(ms) || ms < 1)
          throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'extend takes a positive number of ms');
        const { errors } = await this.log.settle(
          this.topic,
          partition,
          this.options.group,
          [],
          [],
          [[d.deliveryId, ms]],
        );
        if (errors.length > 0)
          throw new ShoalError('SHOAL_LOG_STALE_DELIVERY', `the lease could not be extended: ${errors.join(', ')}`);
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

  /** Queues an ack (delay undefined) or a nack; flushed once per tick per partition. */
  private queue(partition: number, deliveryId: string, delay: number | null | undefined, reason: string | null): void {
    let pending = this.pendingAcks.get(partition);
    if (pending === undefined) {
      pending = { acks: [], nacks: [] };
      this.pendingAcks.set(partition, pending);
      setImmediate(() => {
        this.flush(partition).catch((err: Error) => this.fail(err));
      });
    }
    if (delay === undefined) {
      pending.acks.push(deliveryId);
      this.counters.acked++;
    } else {
      pending.nacks.push([deliveryId, delay, reason]);
      this.counters.nacked++;
    }
  }

  private async flush(partition: number): Promise<void> {
    const pending = this.pendingAcks.get(partition);
    this.pendingAcks.delete(partition);
    if (pending === undefined || (pending.acks.length === 0 && pending.nacks.length === 0)) return;
    const { errors } = await this.log.settle(this.topic, partition, this.options.group, pending.acks, pending.nacks);
    if (errors.length > 0) {
      // a late ack after a redelivery, or a leader change: the message is (or will be) delivered again
      this.emit(
        'error',
        new ShoalError(
          'SHOAL_LOG_STALE_DELIVERY',
          `${errors.length} acks were refused: ${[...new Set(errors)].join(', ')}`,
        ),
      );
    }
  }

  private async flushAll(): Promise<void> {
    await Promise.allSettled([...this.pendingAcks.keys()].map((p) => this.flush(p)));
  }
}
