/**
 * Options of `connect`, validated once: defaults applied, every field checked
 * (a bad one throws SHOAL_CONFIG_INVALID naming it), the result frozen.
 */
import { parseDuration, ShoalError } from '@shoal/protocol';

/** What `connect` accepts. */
export interface ConnectOptions {
  /**
   * Near cache: a bounded in-process copy of values read through this client,
   * kept exact by the nodes' invalidation streams (never older than an
   * invalidation it has received; dropped when a stream disconnects). Off by default.
   */
  nearCache?: { maxEntries: number; maxTtl?: number | string };
  /** Seed nodes, `ws://host:port` (or `wss://`); any one answering is enough, the rest of the cluster is learned from it. */
  nodes: readonly string[];
  /** Bearer token, when the nodes are started with `token`. */
  token?: string;
  /** Default per-call budget in ms, retries included. Default 10000. */
  timeout?: number;
  /** Budget of the first connection (all seeds), ms. Default: `timeout`. */
  connectTimeout?: number;
  /** Requests on the wire per node connection; more wait in a queue (backpressure). Default 1024. */
  maxInFlight?: number;
  /** Requests waiting for a slot per node connection before calls are refused. Default 100000. */
  maxQueued?: number;
  /** First reconnect delay in ms; doubles per failure, with jitter. Default 50. */
  reconnectBaseMs?: number;
  /** Longest reconnect delay in ms. Default 2000. */
  reconnectMaxMs?: number;
  /** Largest frame accepted from a node, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
}

/** Complete, frozen options. */
export interface ResolvedConnectOptions {
  /** The near cache, when on. */
  readonly nearCache: { readonly maxEntries: number; readonly maxTtlMs: number } | undefined;
  readonly nodes: readonly string[];
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly maxFrameBytes: number;
}

const KNOWN = new Set([
  'nodes',
  'token',
  'timeout',
  'connectTimeout',
  'maxInFlight',
  'maxQueued',
  'reconnectBaseMs',
  'reconnectMaxMs',
  'maxFrameBytes',
  'nearCache',
]);

function invalid(option: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${message}`, { option });
}

function integer(value: unknown, option: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalid(option, `${JSON.stringify(value)} is not an integer from ${min} to ${max}`);
  }
  return value as number;
}

/** Normalises a seed to the endpoint URL: `ws://host:port` gets the `/v1/client` path. */
export function endpointUrl(seed: string): string {
  let url: URL;
  try {
    url = new URL(seed.includes('://') ? seed : `ws://${seed}`);
  } catch {
    throw invalid('nodes', `${JSON.stringify(seed)} is not a ws:// or wss:// URL`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw invalid('nodes', `${seed} is not a ws:// or wss:// URL`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/client';
  return url.toString();
}

/** Applies defaults, validates every option and freezes the result. */
export function resolveConnectOptions(options: ConnectOptions): ResolvedConnectOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw invalid(name, `unknown option (known: ${[...KNOWN].join(', ')})`);
  }
  if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
    throw invalid('nodes', 'give at least one node, e.g. ["ws://127.0.0.1:7400"]');
  }
  const nodes = options.nodes.map((n) => {
    if (typeof n !== 'string') throw invalid('nodes', `${JSON.stringify(n)} is not a string`);
    return endpointUrl(n);
  });
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length === 0)) {
    throw invalid('token', 'must be a non-empty string');
  }
  const timeoutMs = integer(options.timeout ?? 10_000, 'timeout', 1, 3_600_000);
  const reconnectBaseMs = integer(options.reconnectBaseMs ?? 50, 'reconnectBaseMs', 1, 60_000);
  return Object.freeze({
    nearCache: resolveNearCache(options.nearCache),
    nodes: Object.freeze(nodes),
    token: options.token,
    timeoutMs,
    connectTimeoutMs: integer(options.connectTimeout ?? timeoutMs, 'connectTimeout', 1, 3_600_000),
    maxInFlight: integer(options.maxInFlight ?? 1024, 'maxInFlight', 1, 1_000_000),
    maxQueued: integer(options.maxQueued ?? 100_000, 'maxQueued', 0, 10_000_000),
    reconnectBaseMs,
    reconnectMaxMs: integer(options.reconnectMaxMs ?? 2000, 'reconnectMaxMs', reconnectBaseMs, 600_000),
    maxFrameBytes: integer(options.maxFrameBytes ?? 64 * 1024 * 1024, 'maxFrameBytes', 1024, 2 ** 31),
  });
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with full jitter in its upper half. */
export function reconnectDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function resolveNearCache(near: ConnectOptions['nearCache']): ResolvedConnectOptions['nearCache'] {
  if (near === undefined) return undefined;
  if (typeof near !== 'object' || near === null) throw invalid('nearCache', 'must be { maxEntries, maxTtl? }');
  const maxEntries = integer(near.maxEntries, 'nearCache.maxEntries', 1, 100_000_000);
  let maxTtlMs = 300_000;
  if (near.maxTtl !== undefined) {
    try {
      maxTtlMs = typeof near.maxTtl === 'number' ? near.maxTtl : parseDuration(near.maxTtl);
    } catch {
      maxTtlMs = Number.NaN;
    }
    if (!Number.isFinite(maxTtlMs) || maxTtlMs <= 0) {
      throw invalid('nearCache.maxTtl', `${JSON.stringify(near.maxTtl)} is not a positive duration (ms or '30s')`);
    }
  }
  return Object.freeze({ maxEntries, maxTtlMs });
}
