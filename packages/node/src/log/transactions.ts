/**
 * Transactional (half) messages, as in RocketMQ: `prepare` stores a message
 * that no consumer can see; `commit` appends it (with a stable id, so a
 * retried commit cannot duplicate it) and `rollback` discards it. A prepared
 * message left pending past its timeout is resolved by the check-back
 * callback its producer registered for the topic (`onCheck`), which looks at
 * the producer's own state (did the database transaction commit?) and answers
 * 'commit', 'rollback' or 'unknown' (ask again later).
 *
 * Prepared messages live in the replicated cache (`__shoal:tx:<id>`), so they
 * survive the loss of any one node. Every node that registered a callback for
 * a topic periodically scans the cluster for that topic's overdue prepared
 * messages and asks its callback, as RocketMQ asks any producer of the group:
 * two nodes answering the same message is harmless (the commit's message id
 * is deduplicated by the log). The scan reads every key of the cluster, so
 * keep `checkIntervalMs` in seconds, not milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { ShoalError } from '@shoal/protocol';
import type { ClusterCache } from '../cluster/cluster-cache.js';
import type { AppendReceipt, MessageLog } from './message-log.js';
import { type AppendOptions, checkAppendOptions, checkTopicName } from './topic-options.js';

/** What a check-back callback is asked about. */
export interface PreparedMessage {
  txId: string;
  topic: string;
  value: unknown;
  key?: string;
  headers?: Record<string, string>;
  preparedAt: number;
  /** Times the callback was asked already. */
  checks: number;
}

/** A check-back callback's verdict. */
export type CheckResult = 'commit' | 'rollback' | 'unknown';

/** Options of `prepare`. */
export interface PrepareOptions extends Omit<AppendOptions, 'acks'> {
  /** After this many ms without commit or rollback, the check-back callback is asked. Default 30000. */
  timeoutMs?: number;
}

interface StoredTx extends PreparedMessage {
  id?: string;
  node: string;
  timeoutMs: number;
}

const PREFIX = '__shoal:tx:';
// a pending transaction is forgotten (rolled back) after this long without any answer
const MAX_PENDING_MS = 24 * 3_600_000;

/** A prepared message: commit it or roll it back. */
export class Transaction {
  constructor(
    private readonly manager: Transactions,
    readonly txId: string,
  ) {}

  /** Appends the message (exactly once, whatever the retries) and forgets the transaction. */
  commit(): Promise<AppendReceipt> {
    return this.manager.resolve(this.txId, 'commit') as Promise<AppendReceipt>;
  }

  /** Discards the message. */
  async rollback(): Promise<void> {
    await this.manager.resolve(this.txId, 'rollback');
  }
}

/** Half messages of one node. */
export class Transactions {
  private readonly checkers = new Map<string, (message: PreparedMessage) => CheckResult | Promise<CheckResult>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Resolutions by check-back, for stats and tests. */
  readonly counters = { prepared: 0, committed: 0, rolledBack: 0, checks: 0 };

  constructor(
    private readonly selfId: string,
    private readonly cache: ClusterCache,
    private readonly log: MessageLog,
    private readonly checkIntervalMs: number,
    private readonly onWarning: (message: string, details: Record<string, unknown>) => void,
  ) {}

  /** Stores a message consumers cannot see until `commit()`. */
  async prepare(topic: string, value: unknown, options: PrepareOptions = {}): Promise<Transaction> {
    checkTopicName(topic);
    const { timeoutMs = 30_000, ...append } = options;
    checkAppendOptions(append);
    if (value === undefined) throw new ShoalError('SHOAL_VALUE_INVALID', 'a message value must not be undefined');
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'timeoutMs must be a positive integer');
    const txId = randomUUID();
    const stored: StoredTx = { txId, topic, value, preparedAt: Date.now(), checks: 0, node: this.selfId, timeoutMs };
    if (append.key !== undefined) stored.key = append.key;
    if (append.id !== undefined) stored.id = append.id;
    if (append.headers !== undefined) stored.headers = append.headers;
    await this.cache.set(PREFIX + txId, stored, { ttl: MAX_PENDING_MS });
    this.counters.prepared++;
    return new Transaction(this, txId);
  }

  /**
   * Registers the check-back callback of a topic: asked about messages of the
   * topic prepared and left pending past their timeout.
   */
  onCheck(topic: string, callback: (message: PreparedMessage) => CheckResult | Promise<CheckResult>): void {
    checkTopicName(topic);
    if (typeof callback !== 'function') throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'onCheck needs a function');
    this.checkers.set(topic, callback);
    this.start();
  }

  /** @internal commit or roll back a pending transaction (idempotent). */
  async resolve(txId: string, verdict: 'commit' | 'rollback'): Promise<AppendReceipt | undefined> {
    const stored = (await this.cache.get(PREFIX + txId)) as StoredTx | undefined;
    if (stored === undefined) {
      if (verdict === 'rollback') return undefined;
      throw new ShoalError(
        'SHOAL_ARGUMENT_INVALID',
        `transaction ${txId} is not pending (already resolved, or expired)`,
        { txId },
      );
    }
    let receipt: AppendReceipt | undefined;
    if (verdict === 'commit') {
      // the transaction id is the message id: a commit retried after a crash is deduplicated by the log
      const options: AppendOptions = { id: stored.id ?? `tx:${txId}` };
      if (stored.key !== undefined) options.key = stored.key;
      if (stored.headers !== undefined) options.headers = stored.headers;
      receipt = await this.log.append(stored.topic, stored.value, options);
      this.counters.committed++;
    } else {
      this.counters.rolledBack++;
    }
    await this.cache.delete(PREFIX + txId);
    return receipt;
  }

  private start(): void {
    if (this.timer !== undefined || this.checkIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.checkOnce().catch((err: unknown) => this.onWarning('transaction check failed', { message: String(err) }));
    }, this.checkIntervalMs);
    this.timer.unref();
  }

  /** Asks this node's check-back callbacks about overdue transactions of their topics. Returns how many it resolved. */
  async checkOnce(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let resolved = 0;
    try {
      let cursor = 0;
      do {
        const page = await this.cache.scan({ cursor, prefix: PREFIX, count: 200 });
        for (const key of page.keys) if (await this.checkOne(key)) resolved++;
        cursor = page.cursor;
      } while (cursor !== 0);
    } finally {
      this.running = false;
    }
    return resolved;
  }

  private async checkOne(key: string): Promise<boolean> {
    const stored = (await this.cache.get(key)) as StoredTx | undefined;
    if (stored === undefined || Date.now() - stored.preparedAt < stored.timeoutMs) return false;
    const callback = this.checkers.get(stored.topic);
    if (callback === undefined) return false;
    this.counters.checks++;
    const { node: _node, timeoutMs: _t, id: _id, ...message } = stored;
    let verdict: CheckResult;
    try {
      verdict = await callback(message);
    } catch (err) {
      this.onWarning('check-back callback threw; asking again later', { txId: stored.txId, message: String(err) });
      verdict = 'unknown';
    }
    if (verdict === 'unknown') {
      await this.cache.set(
        key,
        { ...stored, checks: stored.checks + 1, preparedAt: Date.now() },
        { ttl: MAX_PENDING_MS },
      );
      return false;
    }
    await this.resolve(stored.txId, verdict);
    return true;
  }

  /** Stops the check timer. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
