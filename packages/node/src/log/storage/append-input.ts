/**
 * Checks of what an append hands the log, and the accounted size of a message.
 * The walk that sizes the value (the store's, `sizeOfValue`) is also what
 * refuses values msgpack cannot carry faithfully: msgpackr itself would turn a
 * nested function into nil without a word, and nothing may be dropped silently.
 */
import { isShoalError, ShoalError } from '@shoal/protocol';
import { sizeOfValue } from '../../store/value-size.js';
import type { AppendInput, ReplicatedInput } from './log-record.js';

/** Bytes counted for a record's offset and timestamp. */
const RECORD_OVERHEAD_BYTES = 16;

function invalid(message: string, index: number): ShoalError {
  return new ShoalError('SHOAL_ARGUMENT_INVALID', `message ${index}: ${message}`, { index });
}

/** The error of a message above `maxMessageBytes`. */
export function messageTooLarge(size: number, maxMessageBytes: number, index: number): ShoalError {
  return new ShoalError(
    'SHOAL_LOG_MESSAGE_TOO_LARGE',
    `message ${index} of ${size} bytes exceeds maxMessageBytes (${maxMessageBytes})`,
    { index, size, maxMessageBytes },
  );
}

/**
 * Checks `input` (the `index`-th of its batch) and returns its accounted size: 16 + key + id +
 * header names and values + the value's size by the store's rules. Throws SHOAL_ARGUMENT_INVALID
 * for a malformed message, SHOAL_VALUE_INVALID for a value msgpack cannot carry and
 * SHOAL_LOG_MESSAGE_TOO_LARGE above `maxMessageBytes` (pass Infinity to only check).
 */
export function measureInput(input: AppendInput, index: number, maxMessageBytes: number): number {
  if (typeof input !== 'object' || input === null) throw invalid('is not an object', index);
  let size = RECORD_OVERHEAD_BYTES;
  const { key, id, headers, timestamp } = input;
  if (key !== undefined) {
    if (typeof key !== 'string') throw invalid('key must be a string', index);
    size += key.length;
  }
  if (id !== undefined) {
    if (typeof id !== 'string') throw invalid('id must be a string', index);
    size += id.length;
  }
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      throw invalid('headers must be an object of strings', index);
    }
    for (const name in headers) {
      if (!Object.hasOwn(headers, name)) continue;
      const value = headers[name];
      if (typeof value !== 'string') throw invalid(`header ${JSON.stringify(name)} is not a string`, index);
      size += name.length + value.length;
    }
  }
  if (timestamp !== undefined && (typeof timestamp !== 'number' || !Number.isFinite(timestamp))) {
    throw invalid('timestamp must be a finite number of ms', index);
  }
  if (input.value === undefined) {
    throw new ShoalError('SHOAL_VALUE_INVALID', `message ${index}: a message needs a value (null is one)`, { index });
  }
  try {
    size += sizeOfValue(input.value, maxMessageBytes - size);
  } catch (err) {
    if (isShoalError(err, 'SHOAL_VALUE_TOO_LARGE')) {
      throw messageTooLarge(size + ((err.details?.size as number) ?? 0), maxMessageBytes, index);
    }
    throw err;
  }
  if (size > maxMessageBytes) throw messageTooLarge(size, maxMessageBytes, index);
  return size;
}

/** Throws SHOAL_ARGUMENT_INVALID unless `value` is a safe non-negative integer (an offset). */
export function checkOffset(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', `${name}: ${String(value)} is not an offset`, { [name]: value });
  }
}

/**
 * Checks that a replicated batch is dense (offsets n, n+1, ...) and timestamped; returns n.
 * Throws SHOAL_ARGUMENT_INVALID naming the first bad record.
 */
export function checkReplicatedBatch(records: readonly ReplicatedInput[]): number {
  const first = records[0]?.offset;
  checkOffset(first, 'offset');
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record?.offset !== first + i) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `replicated batch is not dense at index ${i}`, {
        index: i,
        expectedOffset: first + i,
        offset: record?.offset,
      });
    }
    if (typeof record.timestamp !== 'number' || !Number.isFinite(record.timestamp)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `replicated record ${first + i} has no timestamp`, { index: i });
    }
  }
  return first;
}
