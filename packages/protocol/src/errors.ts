/**
 * The one registry of Shoal's error codes. Every error a node, the client or
 * the server raises has a stable `SHOAL_<AREA>_<CONDITION>` code listed here
 * with its HTTP status and whether a retry can succeed, so the client can map a
 * wire code back to the same error and the HTTP API to the right status.
 */

/** What the registry knows about one code. */
export interface ErrorSpec {
  /** Human summary, used when the thrower gives no detail. */
  readonly message: string;
  /** HTTP status the server answers with. */
  readonly status: number;
  /** Whether the same request may succeed if retried later. */
  readonly retryable: boolean;
}

/** Every error code. Append only: codes are part of the wire protocol. */
export const ERROR_CODES = {
  SHOAL_CONFIG_INVALID: { message: 'invalid configuration', status: 400, retryable: false },
  SHOAL_KEY_INVALID: { message: 'invalid key', status: 400, retryable: false },
  SHOAL_VALUE_INVALID: { message: 'value cannot be stored', status: 400, retryable: false },
  SHOAL_VALUE_TOO_LARGE: { message: 'value is larger than the allowed maximum', status: 413, retryable: false },
  SHOAL_ARGUMENT_INVALID: { message: 'invalid argument', status: 400, retryable: false },
  SHOAL_STORE_WRONG_TYPE: {
    message: 'operation against a key holding the wrong kind of value',
    status: 409,
    retryable: false,
  },
  SHOAL_STORE_NOT_INTEGER: { message: 'value is not a safe integer', status: 409, retryable: false },
  SHOAL_STORE_CLOSED: { message: 'the cache has been closed', status: 503, retryable: false },
  SHOAL_KEY_NOT_FOUND: { message: 'no such key', status: 404, retryable: false },
  SHOAL_HTTP_ROUTE_NOT_FOUND: { message: 'no such route', status: 404, retryable: false },
  SHOAL_HTTP_MEDIA_TYPE: { message: 'unsupported content type', status: 415, retryable: false },
  SHOAL_PROTOCOL_INVALID: { message: 'malformed frame or message', status: 400, retryable: false },
  SHOAL_PROTOCOL_FRAME_TOO_LARGE: { message: 'frame exceeds maxFrameBytes', status: 413, retryable: false },
  SHOAL_PROTOCOL_UNKNOWN_KIND: { message: 'unknown message kind', status: 400, retryable: false },
  SHOAL_AUTH_FAILED: { message: 'authentication failed', status: 401, retryable: false },
  SHOAL_AUTH_REQUIRED: { message: 'a bearer token is required', status: 401, retryable: false },
  SHOAL_AUTH_FORBIDDEN: { message: 'the token does not allow this route', status: 403, retryable: false },
  SHOAL_HTTP_TOO_MANY_CONNECTIONS: {
    message: 'too many connections from this address',
    status: 429,
    retryable: true,
  },
  SHOAL_NODE_NOT_READY: { message: 'the node is not ready to serve', status: 503, retryable: true },
  SHOAL_TRANSPORT_TIMEOUT: { message: 'the peer did not answer in time', status: 504, retryable: true },
  SHOAL_TRANSPORT_UNAVAILABLE: { message: 'the peer cannot be reached', status: 503, retryable: true },
  SHOAL_TRANSPORT_CLOSED: { message: 'the transport has been closed', status: 503, retryable: true },
  SHOAL_TRANSPORT_BACKPRESSURE: { message: 'too many requests in flight to the peer', status: 503, retryable: true },
  SHOAL_INTERNAL: { message: 'internal error', status: 500, retryable: true },
  SHOAL_CLUSTER_NOT_OWNER: { message: 'this node does not own the partition', status: 421, retryable: true },
  SHOAL_CLUSTER_TOO_SMALL: {
    message: 'fewer members than minClusterSize: writes refused',
    status: 503,
    retryable: true,
  },
  SHOAL_CLUSTER_INCOMPATIBLE: { message: 'the peer belongs to an incompatible cluster', status: 409, retryable: false },
  SHOAL_REPLICATION_QUORUM: { message: 'not enough replicas acknowledged the write', status: 503, retryable: true },
  SHOAL_NODE_CLOSED: { message: 'the node has been closed', status: 503, retryable: false },
  SHOAL_REQUEST_TIMEOUT: { message: 'the request did not complete within its timeout', status: 504, retryable: true },
  SHOAL_LOG_CORRUPT: { message: 'a log segment is corrupt', status: 500, retryable: false },
  SHOAL_LOG_OFFSET_OUT_OF_RANGE: { message: 'offset outside the retained log', status: 416, retryable: false },
  SHOAL_LOG_MESSAGE_TOO_LARGE: { message: 'message exceeds maxMessageBytes', status: 413, retryable: false },
  SHOAL_LOG_CLOSED: { message: 'the log has been closed', status: 503, retryable: false },
  SHOAL_LOG_IO_FAILED: { message: 'a log file operation failed', status: 500, retryable: true },
  SHOAL_LOG_UNKNOWN_DELIVERY: { message: 'no such delivery', status: 404, retryable: false },
  SHOAL_LOG_STALE_DELIVERY: { message: 'the delivery is no longer current', status: 409, retryable: false },
  SHOAL_LOG_LEASE_LIMIT: { message: 'the lease cannot be extended past maxLeaseMs', status: 409, retryable: false },
  SHOAL_CLIENT_CLOSED: { message: 'the client has been closed', status: 503, retryable: false },
  SHOAL_CLIENT_ABORTED: { message: 'the call was aborted by its signal', status: 499, retryable: false },
  SHOAL_SNAPSHOT_CORRUPT: { message: 'the snapshot file is corrupt or truncated', status: 422, retryable: false },
  SHOAL_SNAPSHOT_VERSION: { message: 'the snapshot format version is not supported', status: 422, retryable: false },
  SHOAL_SNAPSHOT_IO_FAILED: { message: 'a snapshot file operation failed', status: 500, retryable: true },
  SHOAL_TAG_INVALID: { message: 'a tag is not a string of 1-256 characters', status: 400, retryable: false },
  SHOAL_TAG_INCOMPLETE: { message: 'a tag invalidation did not reach every member', status: 503, retryable: true },
  SHOAL_LOADER_FAILED: { message: 'the loader of the caller holding the lease failed', status: 502, retryable: true },
  SHOAL_LOADER_TIMEOUT: { message: 'the loader did not finish in time', status: 504, retryable: true },
} as const satisfies Record<string, ErrorSpec>;

/** A registered error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

// Symbol.for so that `isShoalError` holds across two installed copies of the package.
const BRAND = Symbol.for('shoal.error');

/** The error every Shoal API throws. `code` is stable; `message` is for humans. */
export class ShoalError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Structured context (the option, key or limit involved), safe to serialise. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(message ?? spec.message, options);
    this.name = 'ShoalError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.details = details;
  }

  get [BRAND](): true {
    return true;
  }

  /** Plain form for the wire and the HTTP API. */
  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `err` is a ShoalError (from any installed copy), optionally with the given code. */
export function isShoalError(err: unknown, code?: ErrorCode): err is ShoalError {
  if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (err as ShoalError).code === code;
}

/** Rebuilds an error received over the wire; unknown codes keep their text under a generic code. */
export function errorFromWire(wire: { code: string; message: string; details?: Record<string, unknown> }): ShoalError {
  const code = (Object.hasOwn(ERROR_CODES, wire.code) ? wire.code : 'SHOAL_ARGUMENT_INVALID') as ErrorCode;
  return new ShoalError(code, wire.message, wire.details);
}
