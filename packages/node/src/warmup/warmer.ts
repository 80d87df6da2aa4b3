/**
 * A cache warmer: a consumer group that takes ids from a topic and loads each
 * one into the cache through the application's loader. Being a plain consumer
 * group is the point: a warmer that dies mid-run leaves its unacked ids to be
 * redelivered to another member (or to itself after a restart), a loader that
 * throws is retried with the group's backoff and ends in `<topic>.dlq` after
 * `maxDeliveries`, and the group's lag is the warm-up's remaining work.
 */
import { EventEmitter } from 'node:events';
import { ShoalError } from '@shoal/protocol';
import type { ClusterCache } from '../cluster/cluster-cache.js';
import type { ConsumedMessage, Consumer } from '../log/consumer.js';
import type { MessageLog } from '../log/message-log.js';
import type { StartFrom } from '../log/partition-replica.js';

/** Options of `node.warmer`. */
export interface WarmerOptions {
  /** Topic the ids are published to: a message's value is the id (string or number), or `{ id }`. */
  topic: string;
  /** Consumer group; warmers sharing it split the ids between them. Default 'shoal-warmer'. */
  group?: string;
  /** Loads one id; `undefined` means "nothing to cache" (counted as skipped). A throw is retried, then dead-lettered. */
  loader: (id: string, message: ConsumedMessage) => unknown | Promise<unknown>;
  /** Cache key of an id. Default: the id itself. */
  key?: (id: string) => string;
  /** TTL of loaded entries, ms or duration string. Default: none. */
  ttl?: number | string;
  /** Loads running at once. Default 16. */
  concurrency?: number;
  /** Loaded values written to the cache together (one `mset`); 1 writes each as it loads. Default 1. */
  batch?: number;
  /** Where a new group starts. Default 'earliest' (every id already published). */
  from?: StartFrom;
  /** Deliveries of one id before it goes to `<topic>.dlq`. Default 5. */
  maxDeliveries?: number;
  /** Lease of one load: a warmer that dies holding an id has it redelivered after this many ms. Default 30000. */
  ackTimeoutMs?: number;
  /** How often lag is refreshed and a 'progress' event emitted, in ms. Default 1000. */
  progressIntervalMs?: number;
}

/** Where a warm-up stands. */
export interface WarmerProgress {
  /** Ids whose value is now in the cache (by this warmer). */
  loaded: number;
  /** Ids the loader returned undefined for. */
  skipped: number;
  /** Failed attempts (loader threw or the cache write failed); each is redelivered until maxDeliveries. */
  failed: number;
  /** Loads running now. */
  inFlight: number;
  /** Messages of the topic the group has not completed, over every partition (last refresh). */
  lag: number;
  /** Wall ms when the warmer started. */
  startedAt: number;
  /** Ids completed (loaded + skipped) per second over the last progress interval. */
  ratePerSec: number;
}

/** Events of a warmer. */
export type WarmerEventMap = {
  progress: [progress: WarmerProgress];
  /** One failed attempt for `id` (it will be redelivered, or dead-lettered after maxDeliveries). */
  error: [err: Error, id: string | undefined];
  /** Lag reached 0 with nothing in flight. Emitted again each time work arrives and completes. */
  idle: [progress: WarmerProgress];
};

interface Resolved {
  topic: string;
  group: string;
  loader: WarmerOptions['loader'];
  key: (id: string) => string;
  ttl: number | string | undefined;
  concurrency: number;
  batch: number;
  from: StartFrom;
  maxDeliveries: number;
  ackTimeoutMs: number;
  progressIntervalMs: number;
}

function resolve(options: WarmerOptions): Resolved {
  if (typeof options !== 'object' || options === null)
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'warmer needs options');
  if (typeof options.topic !== 'string' || options.topic.length === 0)
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'warmer: topic must be a non-empty string', { option: 'topic' });
  if (typeof options.loader !== 'function')
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'warmer: loader must be a function', { option: 'loader' });
  if (options.key !== undefined && typeof options.key !== 'function')
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'warmer: key must be a function', { option: 'key' });
  const int = (name: keyof WarmerOptions, def: number, max: number) => {
    const n = (options[name] as number | undefined) ?? def;
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `warmer: ${name} must be an integer from 1 to ${max}`, {
        option: name,
      });
    return n;
  };
  return {
    topic: options.topic,
    group: options.group ?? 'shoal-warmer',
    loader: options.loader,
    key: options.key ?? ((id) => id),
    ttl: options.ttl,
    concurrency: int('concurrency', 16, 10_000),
    batch: int('batch', 1, 10_000),
    from: options.from ?? 'earliest',
    maxDeliveries: int('maxDeliveries', 5, 1000),
    ackTimeoutMs: int('ackTimeoutMs', 30_000, 2 ** 31),
    progressIntervalMs: int('progressIntervalMs', 1000, 3_600_000),
  };
}

/** The id a message carries: its value when a string or number, else the value's `id` field. */
export function idOf(message: ConsumedMessage): string {
  const v = message.value;
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'object' && v !== null) {
    const id = (v as { id?: unknown }).id;
    if ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id))) return String(id);
  }
  throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'a warm-up message is an id (string or number) or { id }', {
    partition: message.partition,
    offset: message.offset,
  });
}

type PendingWrite = { key: string; value: unknown; done: (err?: unknown) => void };

/** A running warm-up. Create with `node.warmer(options)`; `stop()` ends it. */
export class Warmer extends EventEmitter<WarmerEventMap> {
  private readonly o: Resolved;
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loaded = 0;
  private skipped = 0;
  private failed = 0;
  private inFlight = 0;
  private lag = Number.NaN; // unknown until the first refresh
  private readonly startedAt = Date.now();
  private ratePerSec = 0;
  private lastTick = { at: Date.now(), completed: 0 };
  private wasIdle = false;
  private refreshing: Promise<void> | undefined;
  private pendingWrites: PendingWrite[] = [];
  private stopped = false;

  /** @internal use node.warmer */
  constructor(
    private readonly log: MessageLog,
    private readonly cache: ClusterCache,
    options: WarmerOptions,
  ) {
    super();
    this.o = resolve(options);
  }

  /** @internal */
  start(): this {
    this.consumer = this.log.consume(
      this.o.topic,
      {
        group: this.o.group,
        from: this.o.from,
        concurrency: this.o.concurrency,
        maxDeliveries: this.o.maxDeliveries,
        ackTimeoutMs: this.o.ackTimeoutMs,
      },
      (message) => this.handle(message),
    );
    // the node closing closes the consumer: the warmer ends with it instead of polling a closed log
    this.consumer.onClose(() => {
      this.stopped = true;
      clearInterval(this.timer);
    });
    this.timer = setInterval(() => this.tick(), this.o.progressIntervalMs);
    this.timer.unref();
    this.tick();
    return this;
  }

  /** Counters now; `lag` is as of the last refresh (NaN before the first). */
  progress(): WarmerProgress {
    return {
      loaded: this.loaded,
      skipped: this.skipped,
      failed: this.failed,
      inFlight: this.inFlight,
      lag: this.lag,
      startedAt: this.startedAt,
      ratePerSec: this.ratePerSec,
    };
  }

  /** Resolves when the group's lag is 0 and nothing is in flight; rejects after `timeoutMs` or on stop. */
  async drained(timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.stopped) throw new ShoalError('SHOAL_NODE_CLOSED', 'the warmer was stopped before it drained');
      await this.refresh();
      if (this.lag === 0 && this.inFlight === 0) return;
      if (Date.now() > deadline)
        throw new ShoalError('SHOAL_REQUEST_TIMEOUT', `the warmer did not drain within ${timeoutMs} ms`, {
          lag: this.lag,
          inFlight: this.inFlight,
        });
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops taking ids; running loads finish and are acked. Safe twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.consumer?.close();
    this.flushWrites();
  }

  private async handle(message: ConsumedMessage): Promise<void> {
    this.inFlight++;
    let id: string | undefined;
    try {
      id = idOf(message);
      const value = await this.o.loader(id, message);
      if (value === undefined) this.skipped++;
      else {
        await this.write(this.o.key(id), value);
        this.loaded++;
      }
    } catch (err) {
      this.failed++;
      if (this.listenerCount('error') > 0) this.emit('error', err as Error, id);
      throw err; // the group redelivers it, and dead-letters it after maxDeliveries
    } finally {
      this.inFlight--;
    }
  }

  private write(key: string, value: unknown): Promise<void> {
    const options = this.o.ttl === undefined ? undefined : { ttl: this.o.ttl };
    if (this.o.batch === 1) return this.cache.set(key, value, options).then(() => {});
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ key, value, done: (err) => (err === undefined ? resolve() : reject(err)) });
      // a full batch goes now; a partial one waits one tick for the loads finishing alongside it
      if (this.pendingWrites.length >= this.o.batch) this.flushWrites();
      else if (this.pendingWrites.length === 1) setImmediate(() => this.flushWrites());
    });
  }

  private flushWrites(): void {
    const batch = this.pendingWrites;
    if (batch.length === 0) return;
    this.pendingWrites = [];
    const options = this.o.ttl === undefined ? undefined : { ttl: this.o.ttl };
    this.cache
      .mset(
        batch.map((w) => [w.key, w.value] as const),
        options,
      )
      .then(
        () => {
          for (const w of batch) w.done();
        },
        (err: unknown) => {
          for (const w of batch) w.done(err ?? new Error('mset failed'));
        },
      );
  }

  private tick(): void {
    this.refresh().then(
      () => {
        const now = Date.now();
        const completed = this.loaded + this.skipped;
        const seconds = (now - this.lastTick.at) / 1000;
        if (seconds > 0) this.ratePerSec = (completed - this.lastTick.completed) / seconds;
        this.lastTick = { at: now, completed };
        const progress = this.progress();
        this.emit('progress', progress);
        const idle = this.lag === 0 && this.inFlight === 0;
        if (idle && !this.wasIdle) this.emit('idle', progress);
        this.wasIdle = idle;
      },
      () => {},
    );
  }

  /** Refreshes `lag` from the group's leaders; concurrent callers share one request. */
  private refresh(): Promise<void> {
    if (this.refreshing !== undefined) return this.refreshing;
    this.refreshing = this.log
      .lag(this.o.topic, this.o.group)
      .then(
        (partitions) => {
          this.lag = partitions.reduce((sum, p) => sum + p.lag, 0);
        },
        (err: unknown) => {
          // the lag is unknown for now (a leader moving): keep the last figure, report the failure
          if (this.listenerCount('error') > 0) this.emit('error', err as Error, undefined);
        },
      )
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}
