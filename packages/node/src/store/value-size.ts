/**
 * Size accounting for stored values. The memory budget counts each entry as
 * fixed overhead + key bytes + the value's approximate msgpack-encoded size.
 * Walking a value is much cheaper than encoding it, and the walk doubles as the
 * check that the value can travel over the wire (no functions, symbols or cycles).
 *
 * The overhead constants approximate what V8 really spends per entry (Map slot,
 * string headers, the store's per-slot arrays), measured with 100-byte values,
 * so that heap use tracks the budget (docs/ARCHITECTURE.md, "Memory accounting").
 */
import { ShoalError } from '@shoal/protocol';

/** Bytes charged per entry beyond its key and value: Map slot, string header, slot arrays. */
export const ENTRY_OVERHEAD_BYTES = 96;
/** Bytes charged per hash field beyond field name and value (Map slot inside the hash). */
export const FIELD_OVERHEAD_BYTES = 40;
/** Bytes charged per list element beyond its value (deque slot). */
export const ELEMENT_OVERHEAD_BYTES = 8;

// Cycles and absurd nesting are rejected, as msgpack could not encode them anyway.
const MAX_DEPTH = 64;

function invalid(reason: string): ShoalError {
  return new ShoalError('SHOAL_VALUE_INVALID', `value cannot be stored: ${reason}`, { reason });
}

/** Approximate encoded size of a string: its length, exact UTF-8 only when it could matter. */
function stringSize(value: string): number {
  return value.length;
}

function objectSize(value: object, depth: number, limit: number): number {
  if (ArrayBuffer.isView(value)) return value.byteLength + 5;
  if (value instanceof ArrayBuffer) return value.byteLength + 5;
  if (value instanceof Date) return 9;
  if (depth >= MAX_DEPTH) throw invalid(`nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
  // 16 + 8 per member: closer to V8's object header and slot than msgpack's 1-5 byte headers
  let size = 16;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && size <= limit; i++) size += 8 + measure(value[i], depth + 1, limit);
    return size;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (size > limit) break;
      size += 16 + measure(k, depth + 1, limit) + measure(v, depth + 1, limit);
    }
    return size;
  }
  if (value instanceof Set) {
    for (const v of value) {
      if (size > limit) break;
      size += 8 + measure(v, depth + 1, limit);
    }
    return size;
  }
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet) {
    throw invalid(`a ${value.constructor.name} is not data`);
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    size += 8 + k.length + measure((value as Record<string, unknown>)[k], depth + 1, limit);
    if (size > limit) break;
  }
  return size;
}

function measure(value: unknown, depth: number, limit: number): number {
  switch (typeof value) {
    case 'string':
      return stringSize(value) + 1;
    case 'number':
    case 'bigint':
      return 9;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'object':
      return value === null ? 1 : objectSize(value, depth, limit);
    default:
      throw invalid(`a ${typeof value} is not data`);
  }
}

/**
 * Accounted size in bytes of a value (not counting entry overhead). Throws
 * SHOAL_VALUE_INVALID for values msgpack cannot carry (top-level undefined,
 * functions, symbols, cycles) and SHOAL_VALUE_TOO_LARGE above `maxBytes`.
 */
export function sizeOfValue(value: unknown, maxBytes: number): number {
  if (typeof value === 'string') {
    // length <= UTF-8 bytes <= 3 * length: count exactly only near the limit
    const size = value.length * 3 > maxBytes ? Buffer.byteLength(value) : value.length;
    if (size > maxBytes) throw tooLarge(size, maxBytes, true);
    return size;
  }
  if (value === undefined) throw invalid('undefined (use delete to remove a key)');
  const size = measure(value, 0, maxBytes);
  // the walk stops once past the limit, so here the size is a lower bound
  if (size > maxBytes) throw tooLarge(size, maxBytes, false);
  return size;
}

/** The error for a value above the configured maximum. */
export function tooLarge(size: number, maxBytes: number, exact: boolean): ShoalError {
  return new ShoalError(
    'SHOAL_VALUE_TOO_LARGE',
    `value of ${exact ? '' : 'at least '}${size} bytes exceeds the maximum of ${maxBytes} bytes`,
    { size, maxBytes },
  );
}
