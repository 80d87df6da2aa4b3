/**
 * The append path's wire bodies in columns: one array per field (values, keys,
 * ids, headers) instead of one map per message, and the LogAppend reply as a
 * base offset plus the duplicates. Frames are plain msgpack without records,
 * so a map per message meant its key names on the wire and a map to build and
 * walk on both sides: in the append profile, map packing and unpacking were the
 * largest msgpack costs. A batch of plain values now costs one array.
 *
 *   LogAppend     [topic, partition, columns, acks]
 *   reply         [base, dups]      fresh message i -> base + (fresh ones before i); dups = [index, offset, ...]
 *   LogReplicate  [topic, partition, firstOffset, timestamps, columns, options | null, resetTo?]
 *   columns       [values[], keys[] | null, ids[] | null, headers[] | null]   (null inside = absent)
 *   timestamps    one number when every record has it, else one per record
 */
import { ShoalError } from '@shoal/protocol';
import type { AppendInput, LogRecord, ReplicatedInput } from './storage/log-record.js';
import type { ResolvedTopicOptions } from './topic-options.js';

/** Messages as columns; a column whose every entry is absent is null. */
export type AppendColumns = [
  values: unknown[],
  keys: (string | null)[] | null,
  ids: (string | null)[] | null,
  headers: (Record<string, string> | null)[] | null,
];

/** LogAppend reply: the offset of the request's first fresh message and [index, offset] of each duplicate. */
export type AppendReply = [base: number, dups: number[]];

/** LogReplicate body. */
export type ReplicateBody = [
  topic: string,
  partition: number,
  firstOffset: number,
  timestamps: number | number[],
  columns: AppendColumns,
  options: ResolvedTopicOptions | null,
  resetTo?: number,
];

function invalid(message: string): ShoalError {
  return new ShoalError('SHOAL_PROTOCOL_INVALID', message);
}

/** The columns of `messages` (AppendInput or LogRecord: the same optional fields). */
export function toColumns(messages: readonly AppendInput[]): AppendColumns {
  const n = messages.length;
  const values = new Array<unknown>(n);
  let keys: (string | null)[] | null = null;
  let ids: (string | null)[] | null = null;
  let headers: (Record<string, string> | null)[] | null = null;
  for (let i = 0; i < n; i++) {
    const m = messages[i] as AppendInput;
    values[i] = m.value;
    if (m.key !== undefined) {
      keys ??= new Array<string | null>(n).fill(null);
      keys[i] = m.key;
    }
    if (m.id !== undefined) {
      ids ??= new Array<string | null>(n).fill(null);
      ids[i] = m.id;
    }
    if (m.headers !== undefined) {
      headers ??= new Array<Record<string, string> | null>(n).fill(null);
      headers[i] = m.headers;
    }
  }
  return [values, keys, ids, headers];
}

function column(c: unknown, n: number, name: string): unknown[] | null {
  if (c === null || c === undefined) return null;
  if (!Array.isArray(c) || c.length !== n) throw invalid(`the ${name} column does not match the values`);
  return c;
}

/**
 * The messages of `columns`, each started by `make(i, value)`. Throws SHOAL_PROTOCOL_INVALID for a
 * malformed shape; field types are the log's to check (measureInput).
 */
function fromColumns<T extends AppendInput>(columns: unknown, make: (i: number, value: unknown) => T): T[] {
  if (!Array.isArray(columns) || columns.length !== 4 || !Array.isArray(columns[0])) {
    throw invalid('messages are [values, keys, ids, headers]');
  }
  const values = columns[0] as unknown[];
  const n = values.length;
  const keys = column(columns[1], n, 'keys');
  const ids = column(columns[2], n, 'ids');
  const headers = column(columns[3], n, 'headers');
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) {
    const m = make(i, values[i]);
    const key = keys?.[i];
    if (key !== null && key !== undefined) m.key = key as string;
    const id = ids?.[i];
    if (id !== null && id !== undefined) m.id = id as string;
    const h = headers?.[i];
    if (h !== null && h !== undefined) m.headers = h as Record<string, string>;
    out[i] = m;
  }
  return out;
}

/** Append inputs from LogAppend columns (the leader stamps the time). */
export function inputsFromColumns(columns: unknown): AppendInput[] {
  return fromColumns(columns, (_, value) => ({ value }));
}

/** The LogReplicate body carrying `records` (dense, as read from the leader's log). */
export function replicateBody(
  topic: string,
  partition: number,
  records: readonly LogRecord[],
  options: ResolvedTopicOptions | null,
): ReplicateBody {
  const first = records[0];
  let timestamps: number | number[] = first === undefined ? 0 : first.timestamp;
  for (let i = 1; i < records.length; i++) {
    if ((records[i] as LogRecord).timestamp !== timestamps) {
      timestamps = records.map((r) => r.timestamp);
      break;
    }
  }
  return [topic, partition, first?.offset ?? 0, timestamps, toColumns(records), options];
}

/** The records of a LogReplicate body, with their offsets and timestamps. */
export function recordsFromReplicate(firstOffset: unknown, timestamps: unknown, columns: unknown): ReplicatedInput[] {
  if (!Number.isSafeInteger(firstOffset) || (firstOffset as number) < 0) throw invalid('firstOffset is not an offset');
  const first = firstOffset as number;
  if (typeof timestamps === 'number') {
    return fromColumns(columns, (i, value) => ({ offset: first + i, timestamp: timestamps, value }));
  }
  if (!Array.isArray(timestamps)) throw invalid('timestamps are a number or one per record');
  const out = fromColumns(columns, (i, value) => ({ offset: first + i, timestamp: timestamps[i] as number, value }));
  if (timestamps.length !== out.length) throw invalid('timestamps do not match the records');
  return out;
}

/**
 * Hands out the receipts of one LogAppend request's `count` messages from its reply: fresh
 * messages take consecutive offsets from `base` in request order, duplicates the offset their id
 * was first appended at. Throws SHOAL_PROTOCOL_INVALID (before calling `receipt`) for a malformed reply.
 */
export function settleReply(
  reply: unknown,
  count: number,
  receipt: (index: number, offset: number, duplicate: boolean) => void,
): void {
  if (!Array.isArray(reply) || reply.length !== 2 || !Number.isSafeInteger(reply[0]) || !Array.isArray(reply[1])) {
    throw invalid('an append reply is [base, dups]');
  }
  const [base, dups] = reply as AppendReply;
  if (dups.length % 2 !== 0) throw invalid('append reply duplicates are [index, offset] pairs');
  let next = base;
  let d = 0;
  for (let i = 0; i < count; i++) {
    if (d < dups.length && dups[d] === i) {
      receipt(i, dups[d + 1] as number, true);
      d += 2;
    } else receipt(i, next++, false);
  }
}
