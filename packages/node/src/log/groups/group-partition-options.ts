/**
 * Options of one consumer group's delivery state on one topic partition
 * (GroupPartitionState): resolved once (defaults, then validation of every
 * field, then freeze) so a bad option fails at construction naming itself and
 * the state machine never re-checks them.
 */
import { ShoalError } from '@shoal/protocol';
import { mathRandom, type Random } from '../../membership/random.js';
import { type Clock, systemClock } from '../../store/clock.js';

/**
 * Redelivery backoff after a failed delivery (nack without delay, lease expiry).
 * The delay after the k-th delivery failed is
 * `min(maxMs, baseMs × factor^(k−1)) × (1 − jitter × r)`, r uniform in [0, 1).
 */
export interface BackoffOptions {
  /** Delay after the first failure, in ms. Default 100. */
  baseMs?: number;
  /** Largest delay before jitter, in ms. Default 30000. */
  maxMs?: number;
  /** Growth per failure (≥ 1). Default 2. */
  factor?: number;
  /** Fraction of the delay taken off at random, 0 (none) to 1 (full jitter). Default 0.2. */
  jitter?: number;
}

/** Complete, validated backoff. */
export interface ResolvedBackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
}

/** User options for `new GroupPartitionState(...)`. */
export interface GroupPartitionOptions {
  /** Topic name (carried into errors and dead letters). */
  topic: string;
  /** Partition index, ≥ 0. */
  partition: number;
  /** Consumer group name. */
  group: string;
  /**
   * First offset to deliver: the caller resolves 'earliest' (log start), 'latest' (end offset) or an
   * explicit offset. It is also the initial committed offset. Not used by `restore`.
   */
  startOffset: number;
  /** Lease of one delivery: unacked after this many ms it is redelivered (with backoff). Default 30000. */
  ackTimeoutMs?: number;
  /**
   * Longest a single delivery may be held through `extend`, counted from when it was handed out, in ms.
   * Bounds a consumer that keeps extending and never acks. Default 1800000 (30 min), ≥ ackTimeoutMs.
   */
  maxLeaseMs?: number;
  /** Deliveries of one message before it is dead-lettered (each handout counts). Default 5, ≥ 1. */
  maxDeliveries?: number;
  /** Most unacked messages (in flight or waiting for redelivery); new offsets pause beyond it. Default 1000. */
  maxUnacked?: number;
  /**
   * Widest span between the committed offset and the read cursor (offsets done above a gap are kept in a
   * bitmap of this many bits). A message stuck at the head pauses delivery after this many offsets.
   * Default 10 × maxUnacked; ≥ maxUnacked, ≤ 2^24.
   */
  maxUncommitted?: number;
  /** Redelivery backoff. */
  backoff?: BackoffOptions;
  /** Time source. Default: Date.now. */
  clock?: Clock;
  /** Random source for jitter and the default instance id. Default: Math.random. */
  random?: Random;
  /**
   * Tag put in every delivery id so that ids from another instance (a previous leader, before a
   * restore) are recognised as unknown. No '.'. Default: 8 random base-36 characters.
   */
  instanceId?: string;
}

/** Complete, validated and frozen options. */
export interface ResolvedGroupPartitionOptions {
  readonly topic: string;
  readonly partition: number;
  readonly group: string;
  readonly startOffset: number;
  readonly ackTimeoutMs: number;
  readonly maxLeaseMs: number;
  readonly maxDeliveries: number;
  readonly maxUnacked: number;
  readonly maxUncommitted: number;
  readonly backoff: ResolvedBackoffOptions;
  readonly clock: Clock;
  readonly random: Random;
  readonly instanceId: string;
}

const KNOWN = new Set([
  'topic',
  'partition',
  'group',
  'startOffset',
  'ackTimeoutMs',
  'maxLeaseMs',
  'maxDeliveries',
  'maxUnacked',
  'maxUncommitted',
  'backoff',
  'clock',
  'random',
  'instanceId',
]);
const KNOWN_BACKOFF = new Set(['baseMs', 'maxMs', 'factor', 'jitter']);
const MAX_WINDOW = 2 ** 24;

function configError(message: string, option: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', message, { option });
}

function integer(value: unknown, option: string, min: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw configError(`${option}: ${JSON.stringify(value)} is not an integer ≥ ${min}`, option);
  }
  return value;
}

function number(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw configError(`${option}: ${JSON.stringify(value)} is not a number in [${min}, ${max}]`, option);
  }
  return value;
}

function name(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw configError(`${option}: must be a non-empty string`, option);
  return value;
}

function checkKnown(options: object, known: Set<string>, prefix: string): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw configError(`unknown option ${JSON.stringify(prefix + key)}`, prefix + key);
  }
}

function resolveBackoff(options: BackoffOptions | undefined): ResolvedBackoffOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw configError('backoff: must be an object', 'backoff');
  }
  const o = options ?? {};
  checkKnown(o, KNOWN_BACKOFF, 'backoff.');
  const baseMs = number(o.baseMs, 'backoff.baseMs', 0, Number.MAX_SAFE_INTEGER, 100);
  const maxMs = number(o.maxMs, 'backoff.maxMs', baseMs, Number.MAX_SAFE_INTEGER, Math.max(30_000, baseMs));
  const factor = number(o.factor, 'backoff.factor', 1, 1000, 2);
  const jitter = number(o.jitter, 'backoff.jitter', 0, 1, 0.2);
  return Object.freeze({ baseMs, maxMs, factor, jitter });
}

/** A random instance tag: 8 base-36 characters. */
function randomInstanceId(random: Random): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += Math.floor(random.next() * 36).toString(36);
  return id;
}

/**
 * Applies defaults, validates every field and freezes the result.
 * @param requireStart false for `restore`, where the snapshot gives the position.
 */
export function resolveGroupPartitionOptions(
  options: GroupPartitionOptions,
  requireStart = true,
): ResolvedGroupPartitionOptions {
  if (typeof options !== 'object' || options === null) {
    throw configError('GroupPartitionState options must be an object', 'options');
  }
  checkKnown(options, KNOWN, '');
  const topic = name(options.topic, 'topic');
  const partition = integer(options.partition, 'partition', 0);
  const group = name(options.group, 'group');
  const startOffset = requireStart ? integer(options.startOffset, 'startOffset', 0) : 0;
  const ackTimeoutMs = integer(options.ackTimeoutMs, 'ackTimeoutMs', 1, 30_000);
  const maxLeaseMs = integer(options.maxLeaseMs, 'maxLeaseMs', ackTimeoutMs, Math.max(1_800_000, ackTimeoutMs));
  const maxDeliveries = integer(options.maxDeliveries, 'maxDeliveries', 1, 5);
  const maxUnacked = integer(options.maxUnacked, 'maxUnacked', 1, 1000);
  if (maxUnacked > MAX_WINDOW) throw configError(`maxUnacked: at most ${MAX_WINDOW}`, 'maxUnacked');
  const maxUncommitted = integer(
    options.maxUncommitted,
    'maxUncommitted',
    maxUnacked,
    Math.min(MAX_WINDOW, 10 * maxUnacked),
  );
  if (maxUncommitted > MAX_WINDOW) throw configError(`maxUncommitted: at most ${MAX_WINDOW}`, 'maxUncommitted');
  const backoff = resolveBackoff(options.backoff);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw configError('clock: must have a now() method', 'clock');
  const random = options.random ?? mathRandom;
  if (typeof random?.next !== 'function') throw configError('random: must have a next() method', 'random');
  const instanceId = options.instanceId ?? randomInstanceId(random);
  if (typeof instanceId !== 'string' || !/^[A-Za-z0-9_-]+$/.test(instanceId)) {
    throw configError('instanceId: must be a non-empty string of letters, digits, _ and -', 'instanceId');
  }
  return Object.freeze({
    topic,
    partition,
    group,
    startOffset,
    ackTimeoutMs,
    maxLeaseMs,
    maxDeliveries,
    maxUnacked,
    maxUncommitted,
    backoff,
    clock,
    random,
    instanceId,
  });
}
