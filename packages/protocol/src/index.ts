/** Shared types, wire protocol and error registry of Shoal. */

export type { ErrorCode, ErrorSpec } from './errors.js';
export { ERROR_CODES, errorFromWire, isShoalError, ShoalError } from './errors.js';
export { formatBytes, parseBytes, parseDuration } from './units.js';
