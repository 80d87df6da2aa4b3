/**
 * Parsing of human sizes ('256mb') and durations ('30s'). Config files, CLI
 * flags and per-call options all accept either a number or such a string, so
 * the rules live in one place and every error names the option it came from.
 */
import { ShoalError } from './errors.js';

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  k: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const QUANTITY = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

function invalid(option: string, value: unknown, expected: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${JSON.stringify(value)} is not ${expected}`, {
    option,
    value: typeof value === 'string' || typeof value === 'number' ? value : String(value),
  });
}

/**
 * Bytes from a non-negative integer or a string such as '512', '64kb', '1.5gb'
 * (binary multiples: 1kb = 1024 bytes). Throws SHOAL_CONFIG_INVALID naming `option`.
 */
export function parseBytes(value: unknown, option = 'size'): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw invalid(option, value, 'a non-negative integer number of bytes');
  }
  const match = typeof value === 'string' ? QUANTITY.exec(value) : null;
  const unit = match ? BYTE_UNITS[(match[2] ?? '').toLowerCase() || 'b'] : undefined;
  if (!match || unit === undefined) {
    throw invalid(
      option,
      value,
      `a size (a byte count or a number with one of: ${Object.keys(BYTE_UNITS).join(', ')})`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw invalid(option, value, 'a size below 2^53 bytes');
  return bytes;
}

/**
 * Milliseconds from a non-negative number or a string such as '250ms', '30s', '5m', '1h', '2d'
 * (a bare number string is milliseconds). Throws SHOAL_CONFIG_INVALID naming `option`.
 */
export function parseDuration(value: unknown, option = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw invalid(option, value, 'a non-negative number of milliseconds');
  }
  const match = typeof value === 'string' ? QUANTITY.exec(value) : null;
  const unit = match ? DURATION_UNITS[(match[2] ?? '').toLowerCase() || 'ms'] : undefined;
  if (!match || unit === undefined) {
    throw invalid(
      option,
      value,
      `a duration (milliseconds or a number with one of: ${Object.keys(DURATION_UNITS).join(', ')})`,
    );
  }
  return Number(match[1]) * unit;
}

/** '1.5 MiB' style rendering for logs and tables. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i]}`;
}
