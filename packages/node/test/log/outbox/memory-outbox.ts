/**
 * An in-memory OutboxStore for the relay's unit tests: a "transaction" stages
 * rows and commits them when its function returns. It passes the same store
 * contract as SqliteOutbox, so the relay tests run against an honest fake.
 */
import type { OutboxMessage, OutboxRow, OutboxStore } from '../../../src/log/outbox/outbox-store.js';

/** The fake's transaction handle. */
export interface MemoryTx {
  staged: OutboxRow[];
}

type Entry = { row: OutboxRow; sentAt?: number; failedAt?: number; reason?: string };

export class MemoryOutbox implements OutboxStore<MemoryTx> {
  readonly entries = new Map<string, Entry>(); // insertion (= id) order
  private nextId = 1;

  /** Runs `fn` as a transaction: its rows commit when it returns, vanish when it throws. */
  transaction<T>(fn: (tx: MemoryTx) => T): T {
    const tx: MemoryTx = { staged: [] };
    const result = fn(tx);
    for (const row of tx.staged) this.entries.set(row.id, { row });
    return result;
  }

  enqueue(message: OutboxMessage, tx: MemoryTx): string {
    if (tx === undefined) throw new Error('enqueue needs a transaction');
    const row: OutboxRow = {
      id: String(this.nextId++),
      topic: message.topic,
      value: message.value,
      createdAt: Date.now(),
    };
    if (message.key !== undefined) row.key = message.key;
    if (message.headers !== undefined) row.headers = { ...message.headers };
    tx.staged.push(row);
    return row.id;
  }

  pending(limit: number): OutboxRow[] {
    const out: OutboxRow[] = [];
    for (const e of this.entries.values()) {
      if (out.length >= limit) break;
      if (e.sentAt === undefined && e.failedAt === undefined) out.push(e.row);
    }
    return out;
  }

  markSent(ids: readonly string[]): void {
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e !== undefined && e.sentAt === undefined) e.sentAt = Date.now();
    }
  }

  markFailed(id: string, reason: string): void {
    const e = this.entries.get(id);
    if (e !== undefined && e.sentAt === undefined && e.failedAt === undefined) {
      e.failedAt = Date.now();
      e.reason = reason;
    }
  }

  purgeSent(beforeMs: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (e.sentAt !== undefined && e.sentAt < beforeMs) {
        this.entries.delete(id);
        n++;
      }
    }
    return n;
  }
}
