/**
 * The relay of a transactional outbox: polls an OutboxStore, appends each
 * pending row to the log with the producer id `<idPrefix><row id>`, and marks
 * rows sent once the log acknowledged them. A crash (or a failed markSent)
 * between the append and the mark leaves the row pending; the next relay
 * appends it again with the same id and the log's dedupe answers with the
 * first offset, so the message is in the log once (within the dedupe window).
 *
 *   poll ──> pending(batchSize) ──> group by (topic, key) ──> append, in row order per group
 *     ^                                                         │ acked        │ refused for good
 *     └── pollIntervalMs (0 when the batch was full) <── markSent(acked ids)   markFailed(id)
 */
import { EventEmitter } from 'node:events';
import { isShoalError, ShoalError } from '@shoal/protocol';
import { type Clock, systemClock } from '../../store/clock.js';
import type { AppendReceipt } from '../message-log.js';
import type { AppendOptions } from '../topic-options.js';
import type { OutboxRow, OutboxStore } from './outbox-store.js';

/** What the relay appends to: `node.log` satisfies it. */
export interface OutboxPublisher {
  append(topic: string, value: unknown, options: AppendOptions): Promise<AppendReceipt>;
}

/** Options of an OutboxRelay. */
export interface OutboxRelayOptions {
  /** The outbox to drain. */
  // biome-ignore lint/suspicious/noExplicitAny: the relay never calls enqueue, so any transaction type fits
  store: OutboxStore<any>;
  /** Where messages go: `node.log`. */
  log: OutboxPublisher;
  /**
   * Prefix of every producer message id: the id is `idPrefix + rowId`. Required, and unique per
   * outbox (database and table) among everything that appends to the same topics: two outboxes
   * sharing a prefix would have their rows dropped as duplicates of each other. 1-200 characters.
   */
  idPrefix: string;
  /** Ms between polls when the last batch was not full. Default 500. */
  pollIntervalMs?: number;
  /** Rows read and appended per poll. Default 100. */
  batchSize?: number;
  /**
   * Append attempts per row within one poll (on top of the log's own retries through topology
   * changes). After the last one the row stays pending for a later poll, and so do the rows behind
   * it with the same topic and key. Default 5.
   */
  maxAttempts?: number;
  /** Delay before the second attempt, doubled for each next one up to `maxRetryBackoffMs`. Default 50. */
  retryBackoffMs?: number;
  /** Cap of the retry delay, and of the delay before the next poll after a failed one. Default 5000. */
  maxRetryBackoffMs?: number;
  /** Ack level of the appends. Default 'quorum' (a relayed message survives one node's SIGKILL). */
  acks?: 'leader' | 'quorum';
  /** Sent rows older than this are deleted (when the store has `purgeSent`); Infinity keeps them. Default 1 day. */
  retainSentMs?: number;
  /** Ms between purges. Default 60000. */
  purgeIntervalMs?: number;
  /**
   * Whether an append error is about the message itself (retrying cannot help): such a row is
   * parked with `store.markFailed`. Default: SHOAL_VALUE_INVALID, SHOAL_VALUE_TOO_LARGE,
   * SHOAL_LOG_MESSAGE_TOO_LARGE, SHOAL_ARGUMENT_INVALID, SHOAL_KEY_INVALID.
   */
  isPermanent?: (err: unknown) => boolean;
  /** Time source of purges and stats. Default: the system clock. */
  clock?: Clock;
}

/** A row the log acknowledged. */
export interface RelayedMessage {
  rowId: string;
  /** The producer id it was appended with. */
  id: string;
  topic: string;
  partition: number;
  offset: number;
  /** True when an earlier append of this row had landed (its markSent was lost): offset is that one's. */
  duplicate: boolean;
}

/** What one poll did. */
export interface FlushResult {
  /** Rows read from the store. */
  read: number;
  /** Rows appended and marked sent. */
  relayed: number;
  /** Rows left pending after failed appends. */
  failed: number;
  /** Rows parked as failed for good. */
  parked: number;
}

/** Counters of a relay since it was built. */
export interface RelayStats {
  polls: number;
  /** Rows appended and marked sent (duplicates included). */
  relayed: number;
  /** Of those, appends the log reported as duplicates of an earlier one. */
  duplicates: number;
  /** Append attempts that were retried. */
  retries: number;
  /** Rows given up on for a poll, plus failed store calls. */
  failures: number;
  parked: number;
  purged: number;
  lastError: Error | undefined;
  lastRelayedAt: number | undefined;
}

/** Events of a relay. */
export type OutboxRelayEventMap = {
  relayed: [message: RelayedMessage];
  /** A row the log refused for good; it was marked failed (or, without `markFailed`, stays pending). */
  parked: [row: OutboxRow, err: Error];
  /** An append gave up for this poll, or a store call failed; the relay keeps going. Emitted only when listened to. */
  error: [err: Error];
};

type Resolved = Required<Omit<OutboxRelayOptions, 'store' | 'log' | 'isPermanent' | 'clock'>>;

const PERMANENT = new Set([
  'SHOAL_VALUE_INVALID',
  'SHOAL_VALUE_TOO_LARGE',
  'SHOAL_LOG_MESSAGE_TOO_LARGE',
  'SHOAL_ARGUMENT_INVALID',
  'SHOAL_KEY_INVALID',
]);

function invalid(option: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${message}`, { option });
}

function resolve(o: OutboxRelayOptions): Resolved {
  if (typeof o !== 'object' || o === null) throw invalid('options', 'must be an object');
  const store = o.store as Partial<OutboxStore<unknown>> | undefined;
  if (typeof store?.pending !== 'function' || typeof store.markSent !== 'function') {
    throw invalid('store', 'must implement OutboxStore (pending, markSent)');
  }
  if (typeof o.log?.append !== 'function') throw invalid('log', 'must have append (pass node.log)');
  if (typeof o.idPrefix !== 'string' || o.idPrefix.length < 1 || o.idPrefix.length > 200) {
    throw invalid('idPrefix', 'a string of 1-200 characters, unique per outbox, is required');
  }
  const int = (name: keyof Resolved, def: number, min: number) => {
    const v = (o[name] as number | undefined) ?? def;
    if (!Number.isSafeInteger(v) || v < min) throw invalid(name, `${String(v)} is not an integer >= ${min}`);
    return v;
  };
  const retainSentMs = o.retainSentMs ?? 86_400_000;
  if (retainSentMs !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(retainSentMs) || retainSentMs < 0)) {
    throw invalid('retainSentMs', `${String(retainSentMs)} is not a non-negative integer or Infinity`);
  }
  const acks = o.acks ?? 'quorum';
  if (acks !== 'leader' && acks !== 'quorum') throw invalid('acks', 'must be leader or quorum');
  if (o.isPermanent !== undefined && typeof o.isPermanent !== 'function')
    throw invalid('isPermanent', 'not a function');
  return Object.freeze({
    idPrefix: o.idPrefix,
    pollIntervalMs: int('pollIntervalMs', 500, 1),
    batchSize: int('batchSize', 100, 1),
    maxAttempts: int('maxAttempts', 5, 1),
    retryBackoffMs: int('retryBackoffMs', 50, 0),
    maxRetryBackoffMs: int('maxRetryBackoffMs', 5000, 0),
    acks,
    retainSentMs,
    purgeIntervalMs: int('purgeIntervalMs', 60_000, 1),
  });
}

/** Drains an outbox into the log. `start()` polls; `flushOnce()` runs one poll by hand. */
export class OutboxRelay extends EventEmitter<OutboxRelayEventMap> {
  /** The resolved, frozen options (without store, log and functions). */
  readonly options: Readonly<Resolved>;
  readonly stats: RelayStats = {
    polls: 0,
    relayed: 0,
    duplicates: 0,
    retries: 0,
    failures: 0,
    parked: 0,
    purged: 0,
    lastError: undefined,
    lastRelayedAt: undefined,
  };
  private readonly store: OutboxStore<unknown>;
  private readonly log: OutboxPublisher;
  private readonly isPermanent: (err: unknown) => boolean;
  private readonly clock: Clock;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<FlushResult> | undefined;
  private pollAgain = false;
  /** Set while stop() waits for the poll in flight: retry waits end at once. */
  private stopping = false;
  private failedPolls = 0;
  private lastPurgeAt = Number.NEGATIVE_INFINITY;
  /** Wakes retry sleeps when the relay stops (their rows stay pending). */
  private readonly sleepers = new Set<() => void>();

  constructor(options: OutboxRelayOptions) {
    super();
    this.options = resolve(options);
    this.store = options.store;
    this.log = options.log;
    this.isPermanent = options.isPermanent ?? ((err) => isShoalError(err) && PERMANENT.has(err.code));
    this.clock = options.clock ?? systemClock;
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts polling (the first poll runs at once). Safe twice. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Polls now instead of at the next interval (call it after committing a transaction that enqueued). */
  notify(): void {
    if (!this.running) return;
    if (this.flushing !== undefined) this.pollAgain = true;
    else this.schedule(0);
  }

  /**
   * Stops polling: cuts retry waits short (their rows stay pending), waits for the poll in flight,
   * and leaves no timer behind. Safe twice; `start()` may follow.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.pollAgain = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping = true;
    for (const wake of this.sleepers) wake();
    try {
      await this.flushing?.catch(() => {});
    } finally {
      this.stopping = false;
    }
  }

  /** Runs one poll (joining the one in flight, if any). Rejects when the store fails. */
  flushOnce(): Promise<FlushResult> {
    if (this.flushing === undefined) {
      this.flushing = this.poll().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushOnce().then(
        (r) => {
          this.failedPolls = r.failed > 0 ? this.failedPolls + 1 : 0;
          const full = r.read === this.options.batchSize && r.failed === 0;
          this.next(full ? 0 : this.failedPolls > 0 ? this.backoff(this.failedPolls) : this.options.pollIntervalMs);
        },
        () => {
          this.failedPolls++;
          this.next(this.backoff(this.failedPolls));
        },
      );
    }, delayMs);
  }

  private next(delayMs: number): void {
    if (!this.running) return;
    const again = this.pollAgain;
    this.pollAgain = false;
    this.schedule(again ? 0 : delayMs);
  }

  private backoff(attempt: number): number {
    const { retryBackoffMs, maxRetryBackoffMs } = this.options;
    return Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** Math.min(attempt - 1, 30));
  }

  private async poll(): Promise<FlushResult> {
    this.stats.polls++;
    let rows: readonly OutboxRow[];
    try {
      rows = await this.store.pending(this.options.batchSize);
    } catch (err) {
      throw this.report(err);
    }
    const result: FlushResult = { read: rows.length, relayed: 0, failed: 0, parked: 0 };
    const groups = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      // rows with a key keep their order; keyless rows are independent and go out in parallel
      const k = row.key === undefined ? `\u0001${row.id}` : `${row.topic}\u0000${row.key}`;
      const group = groups.get(k);
      if (group === undefined) groups.set(k, [row]);
      else group.push(row);
    }
    const acked: RelayedMessage[] = [];
    await Promise.all([...groups.values()].map((g) => this.publishGroup(g, acked, result)));
    if (acked.length > 0) {
      try {
        await this.store.markSent(acked.map((m) => m.rowId));
      } catch (err) {
        // the rows stay pending: the next poll appends them again and the log's dedupe answers
        throw this.report(err);
      }
      result.relayed = acked.length;
      this.stats.relayed += acked.length;
      this.stats.lastRelayedAt = this.clock.now();
      for (const m of acked) {
        if (m.duplicate) this.stats.duplicates++;
        this.emit('relayed', m);
      }
    }
    await this.purge();
    return result;
  }

  /** Appends one group's rows in order; stops at the first row that fails for now. */
  private async publishGroup(rows: OutboxRow[], acked: RelayedMessage[], result: FlushResult): Promise<void> {
    for (const row of rows) {
      try {
        acked.push(await this.appendRow(row));
      } catch (err) {
        if (!this.isPermanent(err)) {
          this.report(err);
          result.failed++;
          return;
        }
        if (!(await this.park(row, err, result))) return;
      }
    }
  }

  private async appendRow(row: OutboxRow): Promise<RelayedMessage> {
    const id = this.options.idPrefix + row.id;
    const options: AppendOptions = { id, acks: this.options.acks };
    if (row.key !== undefined) options.key = row.key;
    if (row.headers !== undefined) options.headers = row.headers;
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.log.append(row.topic, row.value, options);
        return {
          rowId: row.id,
          id,
          topic: row.topic,
          partition: r.partition,
          offset: r.offset,
          duplicate: r.duplicate,
        };
      } catch (err) {
        if (this.isPermanent(err) || attempt >= this.options.maxAttempts) throw err;
        this.stats.retries++;
        if (!(await this.sleep(this.backoff(attempt)))) throw err;
      }
    }
  }

  /** Parks a refused row; false when the store cannot (the row then blocks its group). */
  private async park(row: OutboxRow, err: unknown, result: FlushResult): Promise<boolean> {
    const error = err instanceof Error ? err : new Error(String(err));
    this.emit('parked', row, error);
    if (this.store.markFailed === undefined) {
      this.report(error);
      result.failed++;
      return false;
    }
    try {
      await this.store.markFailed(row.id, `${isShoalError(err) ? `${err.code}: ` : ''}${error.message}`);
    } catch (storeErr) {
      this.report(storeErr);
      result.failed++;
      return false;
    }
    this.stats.parked++;
    result.parked++;
    return true;
  }

  private async purge(): Promise<void> {
    const now = this.clock.now();
    const { retainSentMs, purgeIntervalMs } = this.options;
    if (this.store.purgeSent === undefined || retainSentMs === Number.POSITIVE_INFINITY) return;
    if (now - this.lastPurgeAt < purgeIntervalMs) return;
    this.lastPurgeAt = now;
    try {
      this.stats.purged += await this.store.purgeSent(now - retainSentMs);
    } catch (err) {
      this.report(err);
    }
  }

  /** Counts a failure, keeps it as lastError and emits it when someone listens; returns it as an Error. */
  private report(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    this.stats.failures++;
    this.stats.lastError = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    return error;
  }

  /** Waits `ms`; resolves false at once when the relay is stopping (true when the wait ran out). */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ran: boolean) => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve(ran);
      };
      const wake = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      this.sleepers.add(wake);
    });
  }
}
