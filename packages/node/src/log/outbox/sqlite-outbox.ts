/**
 * The outbox adapter for SQLite through better-sqlite3 (12.x). Rows live in one
 * table of the application's own database, so `enqueue` joins whatever
 * transaction the application has open on that connection. Only the types of
 * better-sqlite3 are imported: the application brings its `Database`.
 *
 *   id INTEGER PRIMARY KEY AUTOINCREMENT  -- never reused, even after purge
 *   topic TEXT, msg_key TEXT, headers TEXT (JSON), value BLOB (msgpack)
 *   created_at, sent_at, failed_at INTEGER (ms), last_error TEXT
 *   pending = sent_at IS NULL AND failed_at IS NULL (partial index on id)
 */
import { ShoalError } from '@shoal/protocol';
import type BetterSqlite3 from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { type Clock, systemClock } from '../../store/clock.js';
import { measureInput } from '../storage/append-input.js';
import { checkAppendOptions, checkTopicName } from '../topic-options.js';
import type { OutboxMessage, OutboxRow, OutboxStore } from './outbox-store.js';

/** Options of a SqliteOutbox. */
export interface SqliteOutboxOptions {
  /**
   * Table of the outbox rows, created (with its indexes) if missing. An identifier of 1-63
   * characters `[A-Za-z_][A-Za-z0-9_]*`, not starting with `sqlite_`. Default 'shoal_outbox'.
   */
  table?: string;
  /** Time source of `created_at` / `sent_at` / `failed_at`. Default: the system clock. */
  clock?: Clock;
}

/** Row counts of an outbox table, for monitoring. */
export interface OutboxCounts {
  pending: number;
  sent: number;
  failed: number;
}

type StoredRow = {
  id: number;
  topic: string;
  msg_key: string | null;
  headers: string | null;
  value: Buffer;
  created_at: number;
};

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/*
 * Values are msgpack, with the settings of the wire and the segment files, not JSON: the relay
 * then appends exactly the value that was enqueued (Buffers, Uint8Arrays, Dates, nested nulls
 * survive, where JSON would turn a Buffer into {type, data} and a Date into a string). The price
 * is a BLOB column that the sqlite3 shell shows as bytes; topic, key and headers stay readable.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/**
 * The outbox of a better-sqlite3 database. Call `enqueue` inside the same
 * `db.transaction(...)` as the business change:
 *
 * ```ts
 * const outbox = new SqliteOutbox(db);
 * db.transaction(() => {
 *   db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run(id, total);
 *   outbox.enqueue({ topic: 'orders', key: id, value: { id, total } });
 * })();
 * ```
 *
 * `enqueue` throws SHOAL_ARGUMENT_INVALID when the connection has no open
 * transaction: outside one the row would commit on its own, and a crash right
 * after the business write would lose the message. Use WAL mode
 * (`db.pragma('journal_mode = WAL')`) when a relay in another process reads
 * the same file while the application writes.
 */
export class SqliteOutbox implements OutboxStore {
  /** The table name, validated. */
  readonly table: string;
  private readonly clock: Clock;
  private readonly insert: BetterSqlite3.Statement;
  private readonly selectPending: BetterSqlite3.Statement<[number], StoredRow>;
  private readonly updateSent: BetterSqlite3.Statement;
  private readonly updateFailed: BetterSqlite3.Statement;
  private readonly deleteSent: BetterSqlite3.Statement;
  private readonly markSentTx: (ids: readonly string[]) => void;

  constructor(
    private readonly db: BetterSqlite3.Database,
    options: SqliteOutboxOptions = {},
  ) {
    if (typeof db?.prepare !== 'function' || typeof db.transaction !== 'function') {
      throw new ShoalError('SHOAL_CONFIG_INVALID', 'db: a better-sqlite3 Database is required', { option: 'db' });
    }
    if (typeof options !== 'object' || options === null) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', 'options: must be an object', { option: 'options' });
    }
    const table = options.table ?? 'shoal_outbox';
    if (typeof table !== 'string' || !TABLE_NAME.test(table) || /^sqlite_/i.test(table)) {
      throw new ShoalError(
        'SHOAL_CONFIG_INVALID',
        `table: ${JSON.stringify(table)} is not an identifier of 1-63 characters [A-Za-z_][A-Za-z0-9_]* (and not sqlite_*)`,
        { option: 'table' },
      );
    }
    this.table = table;
    this.clock = options.clock ?? systemClock;
    const t = `"${table}"`;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        msg_key TEXT,
        headers TEXT,
        value BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        failed_at INTEGER,
        last_error TEXT
      );
      CREATE INDEX IF NOT EXISTS "${table}_pending" ON ${t} (id) WHERE sent_at IS NULL AND failed_at IS NULL;
      CREATE INDEX IF NOT EXISTS "${table}_sent" ON ${t} (sent_at) WHERE sent_at IS NOT NULL;`,
    );
    this.insert = db.prepare(`INSERT INTO ${t} (topic, msg_key, headers, value, created_at) VALUES (?, ?, ?, ?, ?)`);
    this.selectPending = db.prepare(
      `SELECT id, topic, msg_key, headers, value, created_at FROM ${t}
       WHERE sent_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT ?`,
    );
    this.updateSent = db.prepare(`UPDATE ${t} SET sent_at = ? WHERE id = ? AND sent_at IS NULL`);
    this.updateFailed = db.prepare(
      `UPDATE ${t} SET failed_at = ?, last_error = ? WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL`,
    );
    this.deleteSent = db.prepare(`DELETE FROM ${t} WHERE sent_at IS NOT NULL AND sent_at < ?`);
    this.markSentTx = db.transaction((ids: readonly string[]) => {
      const now = this.clock.now();
      for (const id of ids) {
        const n = Number(id);
        if (Number.isSafeInteger(n)) this.updateSent.run(now, n);
      }
    });
  }

  /**
   * Writes `message` as a pending row in the connection's open transaction and returns its id.
   * Throws SHOAL_ARGUMENT_INVALID outside a transaction or for a bad topic, key or headers, and
   * SHOAL_VALUE_INVALID for a value the log cannot carry; the throw fails the transaction.
   */
  enqueue(message: OutboxMessage): string {
    if (!this.db.inTransaction) {
      throw new ShoalError(
        'SHOAL_ARGUMENT_INVALID',
        'SqliteOutbox.enqueue must run inside a transaction of the same connection (db.transaction(...)) with the business change',
      );
    }
    if (typeof message !== 'object' || message === null) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'an outbox message must be an object');
    }
    const { topic, value, key, headers } = message;
    checkTopicName(topic);
    checkAppendOptions({ ...(key === undefined ? {} : { key }), ...(headers === undefined ? {} : { headers }) });
    measureInput(
      { value, ...(key === undefined ? {} : { key }), ...(headers === undefined ? {} : { headers }) },
      0,
      Number.POSITIVE_INFINITY,
    );
    const info = this.insert.run(
      topic,
      key ?? null,
      headers === undefined ? null : JSON.stringify(headers),
      packr.pack(value),
      this.clock.now(),
    );
    return String(info.lastInsertRowid);
  }

  /** Up to `limit` pending rows in id order. A row whose stored value does not decode is parked as failed. */
  pending(limit: number): OutboxRow[] {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `limit: ${String(limit)} is not a positive integer`);
    }
    const rows: OutboxRow[] = [];
    for (const r of this.selectPending.all(limit)) {
      let row: OutboxRow;
      try {
        row = { id: String(r.id), topic: r.topic, value: packr.unpack(r.value), createdAt: r.created_at };
        if (r.msg_key !== null) row.key = r.msg_key;
        if (r.headers !== null) row.headers = JSON.parse(r.headers) as Record<string, string>;
      } catch (err) {
        this.markFailed(String(r.id), `the stored row does not decode: ${(err as Error).message}`);
        continue;
      }
      rows.push(row);
    }
    return rows;
  }

  /** Marks rows as sent, in one transaction (nested in the caller's, if one is open). */
  markSent(ids: readonly string[]): void {
    if (ids.length > 0) this.markSentTx(ids);
  }

  /** Parks a row the log refused for good; `requeueFailed` puts it back. */
  markFailed(id: string, reason: string): void {
    const n = Number(id);
    if (Number.isSafeInteger(n)) this.updateFailed.run(this.clock.now(), reason.slice(0, 2000), n);
  }

  /** Deletes rows sent before `beforeMs`; returns how many. */
  purgeSent(beforeMs: number): number {
    return Number(this.deleteSent.run(beforeMs).changes);
  }

  /** Makes failed rows pending again (all of them, or those of `ids`); returns how many. */
  requeueFailed(ids?: readonly string[]): number {
    const t = `"${this.table}"`;
    if (ids === undefined) {
      return Number(this.db.prepare(`UPDATE ${t} SET failed_at = NULL WHERE failed_at IS NOT NULL`).run().changes);
    }
    const requeue = this.db.prepare(`UPDATE ${t} SET failed_at = NULL WHERE id = ? AND failed_at IS NOT NULL`);
    let changed = 0;
    this.db.transaction(() => {
      for (const id of ids) changed += Number(requeue.run(Number(id)).changes);
    })();
    return changed;
  }

  /** How many rows are pending, sent (not yet purged) and failed. */
  counts(): OutboxCounts {
    return this.db
      .prepare(
        `SELECT
           COALESCE(SUM(sent_at IS NULL AND failed_at IS NULL), 0) AS pending,
           COALESCE(SUM(sent_at IS NOT NULL), 0) AS sent,
           COALESCE(SUM(failed_at IS NOT NULL AND sent_at IS NULL), 0) AS failed
         FROM "${this.table}"`,
      )
      .get() as OutboxCounts;
  }
}
