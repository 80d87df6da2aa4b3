/** Shared types, wire protocol and error registry of Shoal. */

export type { ErrorCode, ErrorSpec } from './errors.js';
export { ERROR_CODES, errorFromWire, isShoalError, ShoalError } from './errors.js';
export { formatBytes, parseBytes, parseDuration } from './units.js';
export type { WireMessage } from './wire.js';
export { decodeFrame, encodeFrame, MessageKind } from './wire.js';
