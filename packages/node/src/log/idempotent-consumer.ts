/**
 * `idempotent(handler, options)`: wraps a consume handler so a message id that
 * was processed already is skipped on redelivery (a lost ack, a rebalance, a
 * producer retry outside the log's dedupe window). Markers live in the cluster
 * cache under `keyPrefix + id` with a TTL:
 *
 *   set(k, 'processing', nx, ttl = leaseMs) ──won──> run handler ──ok──> set(k, 'done', ttl)   -> ack
 *        │                                              │ threw or nacked: delete(k)          -> redeliver
 *        └─lost─> get(k): 'done' -> skip (ack) · 'processing' -> nack(lease left) · gone -> try again
 *
 * Crash in the middle: a holder that dies after some side effects but before
 * 'done' leaves a 'processing' marker. Skipping on 'processing' would drop the
 * message for good (at-most-once); instead the marker is a lease, renewed
 * while the handler runs, and a redelivery that finds it waits (nack with a
 * delay) until it is 'done' (then skips) or expires (then runs the handler
 * again). So the wrapper is at-least-once with duplicates suppressed: the
 * handler runs twice only when a holder crashed or lost the cache mid-run, and
 * must tolerate that (make its own writes idempotent or transactional). The
 * markers are as durable as the cache: one lost to eviction or to the loss of
 * its owners means a second run, never a skip.
 */
import { parseDuration, ShoalError } from '@shoal/protocol';
import type { ConsumedMessage } from './consumer.js';

/** The cache operations the wrapper uses: `node.cache` satisfies it. */
export interface IdempotencyCache {
  set(key: string, value: unknown, options?: { ttl?: number | string; nx?: boolean }): Promise<boolean>;
  get(key: string): Promise<unknown>;
  delete(key: string): Promise<boolean>;
  /** Renews the lease while a handler runs; without it, leaseMs must exceed the slowest handler. */
  expire?(key: string, ttl: number | string): Promise<boolean>;
  /** Remaining ms of a key (-1 without TTL, -2 missing); used for the wait of a duplicate. */
  ttl?(key: string): Promise<number>;
}

/** Options of `idempotent`. */
export interface IdempotentOptions<M extends ConsumedMessage = ConsumedMessage> {
  /** Where markers live: `node.cache`. */
  cache: IdempotencyCache;
  /**
   * How long a 'done' marker is kept, ms or duration string. Required: a message redelivered (or
   * appended again) after it expired is processed again. Make it longer than the group's
   * redelivery horizon (maxDeliveries x (ackTimeoutMs + backoff)) and than producers' retries.
   */
  ttl: number | string;
  /**
   * Prefix of the marker keys. Use one per consumer group (two groups sharing a prefix would skip
   * each other's messages) and per topic when messages have no id. Default 'shoal:idem:'.
   */
  keyPrefix?: string;
  /**
   * The message's identity. Default: the producer id (`message.id`), else
   * `p<partition>@<offset>` (which only dedupes redeliveries, not producer retries, and is only
   * unique within one topic: see keyPrefix). Return undefined to fall back the same way.
   */
  idOf?: (message: M) => string | undefined;
  /**
   * Processing lease, ms or duration string: how long a 'processing' marker outlives a holder that
   * crashed. It is renewed every leaseMs/3 while the handler runs (when the cache has `expire`),
   * so a slow handler keeps it. A delivery of the same id meanwhile is nacked with the lease's
   * remaining time; each such wait uses one of the group's maxDeliveries. Default 30s.
   */
  lease?: number | string;
  /** Called when a marker could not be written after the handler succeeded (the message is acked anyway). */
  onError?: (err: unknown, message: M) => void;
}

/** Counters of an idempotent handler. */
export interface IdempotentStats {
  /** Handler runs that completed and were marked done. */
  processed: number;
  /** Deliveries skipped because the id was done. */
  skipped: number;
  /** Deliveries put back because another delivery of the id held the lease. */
  deferred: number;
  /** Handler runs that threw or nacked (the lease was released). */
  released: number;
}

/** A wrapped handler, with its counters. */
export type IdempotentHandler<M extends ConsumedMessage> = ((message: M) => Promise<void>) & {
  readonly stats: IdempotentStats;
};

const PROCESSING = 'processing';
const DONE = 'done';

function invalid(option: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${message}`, { option });
}

/**
 * Wraps `handler` so each message id is processed once while its 'done' marker lives (see the
 * module header for the lease protocol). Throws SHOAL_CONFIG_INVALID for bad options. The wrapper
 * rethrows the handler's error (the consumer redelivers) and throws when the cache cannot be
 * reached before the handler ran (redelivered too: nothing is skipped on a guess).
 */
export function idempotent<M extends ConsumedMessage>(
  handler: (message: M) => unknown,
  options: IdempotentOptions<M>,
): IdempotentHandler<M> {
  if (typeof handler !== 'function') throw invalid('handler', 'must be a function');
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  const { cache, idOf, onError } = options;
  if (typeof cache?.set !== 'function' || typeof cache.get !== 'function' || typeof cache.delete !== 'function') {
    throw invalid('cache', 'must have set, get and delete (pass node.cache)');
  }
  if (options.ttl === undefined) throw invalid('ttl', 'is required (how long a processed id is remembered)');
  const ttlMs = parseDuration(options.ttl, 'ttl');
  const leaseMs = parseDuration(options.lease ?? 30_000, 'lease');
  if (ttlMs < 1) throw invalid('ttl', 'must be at least 1 ms');
  if (leaseMs < 3) throw invalid('lease', 'must be at least 3 ms');
  const prefix = options.keyPrefix ?? 'shoal:idem:';
  if (typeof prefix !== 'string') throw invalid('keyPrefix', 'must be a string');
  if (idOf !== undefined && typeof idOf !== 'function') throw invalid('idOf', 'must be a function');
  if (onError !== undefined && typeof onError !== 'function') throw invalid('onError', 'must be a function');

  const stats: IdempotentStats = { processed: 0, skipped: 0, deferred: 0, released: 0 };

  /** Wins the lease (true), or says what the other holder's marker is ('done' / ms to wait). */
  async function acquire(k: string): Promise<true | 'done' | number> {
    for (let tries = 0; tries < 3; tries++) {
      if (await cache.set(k, PROCESSING, { nx: true, ttl: leaseMs })) return true;
      const marker = await cache.get(k);
      if (marker === DONE) return 'done';
      // anything else but a vanished key (it expired in between: try again) is a live lease
      if (marker !== undefined) {
        const left = cache.ttl === undefined ? leaseMs : await cache.ttl(k);
        return left > 0 ? Math.min(left, leaseMs) : leaseMs;
      }
    }
    return leaseMs;
  }

  async function run(message: M): Promise<void> {
    const id = idOf?.(message) ?? message.id ?? `p${message.partition}@${message.offset}`;
    const k = prefix + id;
    const won = await acquire(k);
    if (won === 'done') {
      stats.skipped++;
      return;
    }
    if (won !== true) {
      // another delivery holds the lease (running, or crashed and not yet expired): come back later
      stats.deferred++;
      message.nack(won + 1);
      return;
    }
    let nacked = false;
    const wrapped: M = {
      ...message,
      nack(delayMs?: number) {
        nacked = true;
        message.nack(delayMs);
      },
    };
    // the lease follows the holder: renewed while the handler runs, so only a dead holder's expires
    let renewing: Promise<unknown> | undefined;
    const expire = cache.expire?.bind(cache);
    const renew =
      expire === undefined
        ? undefined
        : setInterval(
            () => {
              renewing = expire(k, leaseMs).catch(() => {});
            },
            Math.floor(leaseMs / 3),
          );
    let failure: { err: unknown } | undefined;
    try {
      await handler(wrapped);
    } catch (err) {
      failure = { err };
    }
    clearInterval(renew);
    await renewing; // a renewal landing after 'done' would cut the marker's TTL down to the lease
    if (failure !== undefined || nacked) {
      // released, so the redelivery runs at once instead of waiting for the lease
      stats.released++;
      await cache.delete(k).catch(() => {});
      if (failure !== undefined) throw failure.err;
      return;
    }
    try {
      await cache.set(k, DONE, { ttl: ttlMs });
    } catch (err) {
      // the work is done: ack it; only a later redelivery of this id (after the lease) would run again
      onError?.(err, message);
    }
    stats.processed++;
  }

  return Object.assign(run, { stats });
}
