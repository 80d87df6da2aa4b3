/**
 * The transactional outbox contract: what a database adapter implements so an
 * OutboxRelay can publish its rows. A message row is written by `enqueue` in
 * the same database transaction as the business change (so both commit or
 * neither does); the relay reads `pending` rows, appends each with the row id
 * as producer message id, and then calls `markSent`.
 */

/** A value, or a promise of it: adapters of synchronous drivers (better-sqlite3) need not allocate promises. */
export type MaybePromise<T> = T | Promise<T>;

/** What a producer puts in the outbox: the arguments of one `node.log.append`. */
export interface OutboxMessage {
  /** Topic to append to (checked like `node.log.append` checks it). */
  topic: string;
  /** Message value: anything the log carries (msgpack types, `null` included, not `undefined`). */
  value: unknown;
  /** Partitioning key: rows with the same topic and key are appended in row id order. */
  key?: string;
  /** String headers carried with the message. */
  headers?: Record<string, string>;
}

/** A row waiting to be published. */
export interface OutboxRow extends OutboxMessage {
  /**
   * The row's id, as a string. It must be unique for the lifetime of the outbox and never reused
   * (a reused id inside the topic's dedupe window would make the log drop the new message as a
   * retry of the old one): use a monotonic sequence (SQLite `AUTOINCREMENT`, a Postgres identity).
   * Rows are returned in ascending id order; per topic and key that is the publish order.
   */
  id: string;
  /** When the row was written, in ms since the epoch. */
  createdAt: number;
}

/**
 * A database adapter of the outbox. `Tx` is whatever ties a write to the user's
 * transaction: a transaction client for drivers that pass one around (pg's
 * `PoolClient`, a knex `trx`), or `void` for drivers whose transaction belongs
 * to the connection the adapter was built with (better-sqlite3): then
 * `enqueue(message)` takes no second argument.
 *
 * The relay only calls `pending`, `markSent`, `markFailed` and `purgeSent`, one
 * call at a time per relay. Running two relays over one outbox is safe (the
 * log drops the second append of an id within its dedupe window) but wasteful;
 * adapters of databases with row locks may claim rows in `pending`
 * (`FOR UPDATE SKIP LOCKED`) to share the work.
 */
export interface OutboxStore<Tx = void> {
  /**
   * Writes `message` as a pending row inside the caller's transaction and returns its id. Must
   * only be called inside a transaction that also holds the business change: the row becomes
   * visible to the relay when, and only if, that transaction commits. Validates the message and
   * throws SHOAL_ARGUMENT_INVALID / SHOAL_VALUE_INVALID (failing the transaction) rather than
   * storing a row the log would refuse.
   */
  enqueue(message: OutboxMessage, tx: Tx): MaybePromise<string>;

  /** Up to `limit` rows neither sent nor failed, in ascending id order. */
  pending(limit: number): MaybePromise<readonly OutboxRow[]>;

  /**
   * Marks rows as published (the log acknowledged their append). Ids that are unknown or already
   * sent are ignored. After this a row is never returned by `pending` again.
   */
  markSent(ids: readonly string[]): MaybePromise<void>;

  /**
   * Optional: parks a row the log refused for good (too large, invalid value), recording `reason`,
   * so it stops blocking the rows behind it. An adapter without it keeps such a row pending: the
   * relay then reports it on every poll and holds back later rows of its topic and key.
   */
  markFailed?(id: string, reason: string): MaybePromise<void>;

  /** Optional: deletes rows sent before `beforeMs` (ms since the epoch); returns how many. */
  purgeSent?(beforeMs: number): MaybePromise<number>;
}
