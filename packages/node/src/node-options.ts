/**
 * Options of `createNode`: resolved once (defaults, then every field
 * validated, then frozen). Cache options are passed through to LocalCache,
 * which validates them itself; membership options to the membership config.
 */
import { parseDuration, ShoalError } from '@shoal/protocol';
import type { Logger } from 'pino';
import type { EvictionPolicyName } from './eviction/eviction-policy.js';
import type { MembershipConfigOptions } from './membership/membership-config.js';
import type { Consistency } from './replication/cache-ops.js';
import type { Clock } from './store/clock.js';
import { systemClock } from './store/clock.js';

/** User options of `createNode`. */
export interface NodeOptions {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 picks a free one. Default 7400. */
  port?: number;
  /** 'host:port' other nodes dial to reach this one. Default: host and the bound port. */
  advertiseAddress?: string;
  /** Stable id of this node. Default: random. */
  nodeId?: string;
  /** 'host:port' of nodes to join through (any live member works). Default: none (a new cluster). */
  seeds?: string[];
  /** Copies of each key, primary included. Default 2. */
  replicas?: number;
  /** Partitions of the keyspace; fixed at cluster creation, checked at join. Default 271 (use 4096 for 100+ nodes). */
  partitionCount?: number;
  /** Memory budget of this node's store. Default '256mb'. */
  memory?: number | string;
  /** Most entries in this node's store. Default: memory bound only. */
  maxEntries?: number;
  /** Eviction policy. Default 'tinylfu'. */
  eviction?: EvictionPolicyName;
  /** Largest value, bytes or size string. Default '16mb'. */
  maxValueBytes?: number | string;
  /** Shared secret peers must prove at the handshake. Default: none (trusted network only). */
  secret?: string;
  /** Bearer token clients must present (WebSocket client endpoint and HTTP API). Default: none (open). */
  token?: string;
  /** Token for cluster-changing admin routes. Default: none (the client `token`, if set, is enough). */
  adminToken?: string;
  /**
   * Near cache: a bounded copy of values whose primary is another node, kept
   * exact by the invalidation stream. Default: off.
   */
  nearCache?: { maxEntries: number; maxTtl?: number | string };
  /**
   * Hot keys: without a near cache, still keep a short-lived, invalidated copy
   * of keys their primary reports as read far more often than others.
   * Default: off (it subscribes this node to every primary's invalidation stream).
   */
  hotKeys?: boolean | { maxEntries?: number; ttl?: number | string; threshold?: number };
  /** Owners that must hold a write before it is acknowledged. Default 'quorum' (survives any one node's SIGKILL). */
  writeConsistency?: Consistency;
  /** Owners a read consults. Default 'one' (the primary). */
  readConsistency?: Consistency;
  /** Budget of one cache call including transparent retries, in ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Writes are refused while fewer members are alive (split-brain guard). 0 = off (default). */
  minClusterSize?: number;
  /** Membership preset ('lan' default, 'wan', 'local' for tests) or explicit settings over LAN defaults. */
  membership?: 'lan' | 'wan' | 'local' | MembershipConfigOptions;
  /** How long a delete's tombstone is kept, in ms. Default 600000 (10 min). */
  tombstoneTtlMs?: number;
  /** Time between anti-entropy passes, in ms; 0 disables them. Default 30000. */
  antiEntropyIntervalMs?: number;
  /** Largest frame between nodes, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Directory for durable data (topic segment files). Default: none, memory only (still replicated). */
  dataDir?: string;
  /**
   * TLS for the node's port: the HTTP API becomes https and peers dial `wss://`
   * (every node of a cluster must then use TLS). PEM strings or buffers; `ca`
   * is trusted when dialing peers (a private CA or a self-signed certificate).
   * Default: none (plain http/ws).
   */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** Most simultaneous HTTP/WebSocket connections from one IP address; more are refused. Default 256. */
  maxConnectionsPerIp?: number;
  /** Logger (pino). Default: silent. */
  logger?: Logger;
  /** Version reported by /health. Default: the package's. */
  version?: string;
  /** Time source. Default: Date.now. */
  clock?: Clock;
}

/** Complete, validated and frozen node options. */
export interface ResolvedNodeOptions {
  readonly host: string;
  readonly port: number;
  readonly advertiseAddress: string | undefined;
  readonly nodeId: string;
  readonly seeds: readonly string[];
  readonly replicas: number;
  readonly partitionCount: number;
  readonly memory: number | string;
  readonly maxEntries: number | undefined;
  readonly eviction: EvictionPolicyName;
  readonly maxValueBytes: number | string;
  readonly secret: string | undefined;
  readonly token: string | undefined;
  readonly nearCache: { readonly maxEntries: number; readonly maxTtlMs: number } | undefined;
  readonly hotKeys: { readonly maxEntries: number; readonly ttlMs: number; readonly threshold: number } | undefined;
  readonly adminToken: string | undefined;
  readonly writeConsistency: Consistency;
  readonly readConsistency: Consistency;
  readonly requestTimeoutMs: number;
  readonly minClusterSize: number;
  readonly membership: 'lan' | 'wan' | 'local' | MembershipConfigOptions;
  readonly tombstoneTtlMs: number;
  readonly antiEntropyIntervalMs: number;
  readonly maxFrameBytes: number;
  readonly dataDir: string | undefined;
  readonly tls: Readonly<{ cert: string | Buffer; key: string | Buffer; ca?: string | Buffer }> | undefined;
  readonly maxConnectionsPerIp: number;
  readonly logger: Logger | undefined;
  readonly version: string;
  readonly clock: Clock;
}

const CONSISTENCY: readonly Consistency[] = ['one', 'quorum', 'all'];
const ADDRESS = /^[^\s/]{1,255}:\d{1,5}$/;

function invalid(option: string, message: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${option}: ${message}`, { option });
}

function integer(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(option, `${JSON.stringify(value)} is not an integer from ${min} to ${max}`);
  }
  return value;
}

/** Applies defaults, validates every field and freezes the result. */
export function resolveNodeOptions(options: NodeOptions = {}): ResolvedNodeOptions {
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw invalid('host', 'must be a non-empty string');
  const port = integer(options.port ?? 7400, 'port', 0, 65535);
  if (options.advertiseAddress !== undefined && !ADDRESS.test(options.advertiseAddress)) {
    throw invalid('advertiseAddress', `${JSON.stringify(options.advertiseAddress)} is not host:port`);
  }
  const nodeId = options.nodeId ?? `node-${Math.random().toString(36).slice(2, 10)}`;
  if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 128)
    throw invalid('nodeId', 'must be 1-128 characters');
  const seeds = options.seeds ?? [];
  if (!Array.isArray(seeds)) throw invalid('seeds', 'must be a list of host:port strings');
  for (const seed of seeds) {
    if (typeof seed !== 'string' || !ADDRESS.test(seed))
      throw invalid('seeds', `${JSON.stringify(seed)} is not host:port`);
  }
  const writeConsistency = options.writeConsistency ?? 'quorum';
  if (!CONSISTENCY.includes(writeConsistency))
    throw invalid('writeConsistency', `must be one of ${CONSISTENCY.join(', ')}`);
  const readConsistency = options.readConsistency ?? 'one';
  if (!CONSISTENCY.includes(readConsistency))
    throw invalid('readConsistency', `must be one of ${CONSISTENCY.join(', ')}`);
  if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length < 8)) {
    throw invalid('secret', 'must be a string of at least 8 characters');
  }
  for (const name of ['token', 'adminToken'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'string' || value.length < 8)) {
      throw invalid(name, 'must be a string of at least 8 characters');
    }
  }
  const tls = options.tls;
  if (tls !== undefined) {
    const pem = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
    if (typeof tls !== 'object' || tls === null || !pem(tls.cert) || !pem(tls.key))
      throw invalid('tls', 'must be { cert, key, ca? } with PEM strings or buffers');
    if (tls.ca !== undefined && !pem(tls.ca)) throw invalid('tls', 'ca must be a PEM string or buffer');
  }
  const membership = options.membership ?? 'lan';
  if (typeof membership === 'string' && !['lan', 'wan', 'local'].includes(membership)) {
    throw invalid('membership', `${JSON.stringify(membership)} is not lan, wan, local or a settings object`);
  }
  return Object.freeze({
    nearCache: resolveNearCache(options.nearCache),
    hotKeys: resolveHotKeys(options.hotKeys),
    host,
    port,
    advertiseAddress: options.advertiseAddress,
    nodeId,
    seeds: Object.freeze([...seeds]),
    replicas: integer(options.replicas ?? 2, 'replicas', 1, 16),
    partitionCount: integer(options.partitionCount ?? 271, 'partitionCount', 1, 65536),
    memory: options.memory ?? '256mb',
    maxEntries: options.maxEntries,
    eviction: options.eviction ?? 'tinylfu',
    maxValueBytes: options.maxValueBytes ?? '16mb',
    secret: options.secret,
    token: options.token,
    adminToken: options.adminToken,
    writeConsistency,
    readConsistency,
    requestTimeoutMs: integer(options.requestTimeoutMs ?? 10_000, 'requestTimeoutMs', 1, 3_600_000),
    minClusterSize: integer(options.minClusterSize ?? 0, 'minClusterSize', 0, 10_000),
    membership,
    tombstoneTtlMs: integer(options.tombstoneTtlMs ?? 600_000, 'tombstoneTtlMs', 1, 2 ** 31),
    antiEntropyIntervalMs: integer(options.antiEntropyIntervalMs ?? 30_000, 'antiEntropyIntervalMs', 0, 2 ** 31),
    maxFrameBytes: integer(options.maxFrameBytes ?? 64 * 1024 * 1024, 'maxFrameBytes', 1024, 2 ** 31),
    dataDir: options.dataDir,
    tls: tls === undefined ? undefined : Object.freeze({ ...tls }),
    maxConnectionsPerIp: integer(options.maxConnectionsPerIp ?? 256, 'maxConnectionsPerIp', 1, 1_000_000),
    logger: options.logger,
    version: options.version ?? '0.1.0',
    clock: options.clock ?? systemClock,
  });
}

function durationOption(value: unknown, option: string): number {
  let ms: number;
  try {
    ms = typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : Number.NaN;
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0)
    throw invalid(option, `${JSON.stringify(value)} is not a positive duration (ms or '30s')`);
  return ms;
}

function resolveNearCache(near: NodeOptions['nearCache']): ResolvedNodeOptions['nearCache'] {
  if (near === undefined) return undefined;
  if (typeof near !== 'object' || near === null) throw invalid('nearCache', 'must be { maxEntries, maxTtl? }');
  return Object.freeze({
    maxEntries: integer(near.maxEntries, 'nearCache.maxEntries', 1, 100_000_000),
    maxTtlMs: near.maxTtl === undefined ? 300_000 : durationOption(near.maxTtl, 'nearCache.maxTtl'),
  });
}

function resolveHotKeys(hot: NodeOptions['hotKeys']): ResolvedNodeOptions['hotKeys'] {
  if (hot === undefined || hot === false) return undefined;
  const settings = hot === true ? {} : hot;
  if (typeof settings !== 'object' || settings === null)
    throw invalid('hotKeys', 'must be true, false or { maxEntries?, ttl?, threshold? }');
  return Object.freeze({
    maxEntries: integer(settings.maxEntries ?? 1000, 'hotKeys.maxEntries', 1, 10_000_000),
    ttlMs: settings.ttl === undefined ? 1000 : durationOption(settings.ttl, 'hotKeys.ttl'),
    threshold: integer(settings.threshold ?? 8, 'hotKeys.threshold', 1, 15),
  });
}
