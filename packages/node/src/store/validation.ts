/**
 * Checks of per-call input (keys, TTLs) that raise the stable Shoal error
 * codes. Kept out of the hot path: callers do a cheap length test first and
 * call these only when it fails.
 */
import { isShoalError, parseDuration, ShoalError } from '@shoal/protocol';

/** Throws SHOAL_KEY_INVALID unless `key` is a non-empty string of at most `maxKeyBytes` UTF-8 bytes. */
export function validateKey(key: unknown, maxKeyBytes: number, what = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new ShoalError('SHOAL_KEY_INVALID', `${what} must be a string, got ${key === null ? 'null' : typeof key}`, {
      type: typeof key,
    });
  }
  if (what === 'key' && key.length === 0) throw new ShoalError('SHOAL_KEY_INVALID', 'key must not be empty');
  const bytes = key.length > maxKeyBytes ? key.length : Buffer.byteLength(key);
  if (bytes > maxKeyBytes) {
    throw new ShoalError('SHOAL_KEY_INVALID', `${what} of ${bytes}+ bytes exceeds maxKeyBytes (${maxKeyBytes})`, {
      bytes,
      maxKeyBytes,
    });
  }
}

/** A per-call TTL in ms (> 0) from a number or a duration string; SHOAL_ARGUMENT_INVALID otherwise. */
export function parseTtl(ttl: unknown): number {
  let ms: number;
  try {
    ms = parseDuration(ttl, 'ttl');
  } catch (err) {
    if (!isShoalError(err)) throw err;
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', err.message, { ttl: String(ttl) });
  }
  if (ms <= 0)
    throw new ShoalError('SHOAL_ARGUMENT_INVALID', `ttl: ${String(ttl)} must be above 0 ms`, { ttl: String(ttl) });
  return ms;
}
