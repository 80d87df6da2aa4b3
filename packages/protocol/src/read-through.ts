/**
 * The caller's side of `getOrSet`: coalesce concurrent calls in this process,
 * ask the key's primary for a lease (LoadCoordinator), run the loader only
 * when granted one, and report the result. Grace and the soft timeout follow
 * BentoCache's meaning: a stale value within `grace` is served when the loader
 * fails, when another caller holds the lease, or when the loader takes longer
 * than `timeout` (it then finishes in the background and its value is stored);
 * `hardTimeout` bounds the wait for a loader when nothing stale is available.
 */
import { isShoalError, ShoalError } from './errors.js';
import { ManagedValue } from './managed-value.js';
import { validateTags } from './tags.js';
import { parseDuration } from './units.js';

/**
 * What a Load request gets back from the key's primary:
 * - ['fresh', stored, expiresAt?, epoch?, seq?, nodeId?]: a fresh value (read at the primary: with
 *   its stream position, so a near cache may keep it);
 * - ['none']: the lease holder's loader found nothing (nothing is cached);
 * - ['stale', stored]: another caller is refreshing; this value is within its grace;
 * - ['lease', stale | null, token]: run the loader and report with this token;
 * - ['failed', message]: the lease holder's loader failed and nothing servable is left;
 * - ['busy']: still loading elsewhere after waiting; ask again.
 */
export type LoadReply =
  | [state: 'fresh', stored: unknown]
  | [state: 'fresh', stored: unknown, expiresAt: number, epoch: number, seq: number, nodeId: string]
  | [state: 'none']
  | [state: 'stale', stored: unknown]
  | [state: 'lease', stale: unknown, token: number]
  | [state: 'failed', message: string]
  | [state: 'busy'];

/** How the lease holder's loader ended. */
export type LoadOutcome = 'value' | 'none' | 'error';

const unwrap = (stored: unknown) => (stored instanceof ManagedValue ? stored.value : stored);

/** Options of `getOrSet`. */
export interface GetOrSetOptions {
  /** How long a loaded value is fresh (ms or duration string). Default: no expiry. */
  ttl?: number | string;
  /** How long after going stale it may still be served (ms or duration string). Default 0. */
  grace?: number | string;
  /** Soft timeout: with a stale value in hand, serve it if the loader takes longer than this. */
  timeout?: number | string;
  /** Hard timeout: give up waiting for a loader after this long (SHOAL_LOADER_TIMEOUT). */
  hardTimeout?: number | string;
  /** Tags of the loaded value (invalidateTag / expireTag). */
  tags?: string[];
}

/** A loader: produces the value of a missing or stale key (undefined: nothing to cache). */
export type Loader<T> = (key: string) => T | Promise<T>;

/** getOrSet options after validation, in ms. */
export interface ResolvedGetOrSetOptions {
  ttlMs: number;
  graceMs: number;
  timeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  tags: string[];
}

/** How getOrSet reaches the key's primary. */
export interface LoadTransport {
  /** Sends Load to the primary (with routing retries); resolves with its reply. */
  load(key: string, leaseMs: number, waitMs: number): Promise<LoadReply>;
  /** Sends LoadDone to the primary (with routing retries). */
  done(
    key: string,
    token: number,
    outcome: LoadOutcome,
    payload: unknown,
    options: ResolvedGetOrSetOptions,
  ): Promise<void>;
  /** Checks a value can be stored (size, type); throws otherwise. */
  checkValue(value: unknown): void;
}

function duration(value: number | string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  let ms: number;
  try {
    ms = typeof value === 'number' ? value : parseDuration(value);
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new ShoalError(
      'SHOAL_ARGUMENT_INVALID',
      `getOrSet option ${option} must be a duration (ms or '30s'), got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** Validates getOrSet options. */
export function resolveGetOrSetOptions(options: GetOrSetOptions = {}): ResolvedGetOrSetOptions {
  const tags = options.tags ?? [];
  validateTags(tags);
  return {
    ttlMs: duration(options.ttl, 'ttl') ?? 0,
    graceMs: duration(options.grace, 'grace') ?? 0,
    timeoutMs: duration(options.timeout, 'timeout'),
    hardTimeoutMs: duration(options.hardTimeout, 'hardTimeout'),
    tags: [...tags],
  };
}

const LEASE_MS = 30_000;
const WAIT_MS = 1_000;

/** Coalesces and runs getOrSet calls of one process. */
export class GetOrSetRunner {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Loader calls this process made (tests and stats). */
  loaderCalls = 0;

  constructor(
    private readonly transport: LoadTransport,
    private readonly requestTimeoutMs: number,
  ) {}

  run<T>(key: string, loader: Loader<T>, options: ResolvedGetOrSetOptions): Promise<T | undefined> {
    const running = this.inFlight.get(key);
    if (running !== undefined) return running as Promise<T | undefined>;
    const call = this.once(key, loader, options).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }

  private async once<T>(key: string, loader: Loader<T>, options: ResolvedGetOrSetOptions): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(this.requestTimeoutMs, options.hardTimeoutMs ?? 0);
    const leaseMs = Math.max(LEASE_MS, (options.hardTimeoutMs ?? 0) * 2);
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ShoalError(
          'SHOAL_LOADER_TIMEOUT',
          `getOrSet ${JSON.stringify(key)}: another caller's loader did not finish in time`,
          { key },
        );
      }
      const reply = await this.transport.load(key, leaseMs, Math.min(WAIT_MS, left));
      switch (reply[0]) {
        case 'fresh':
        case 'stale':
          return unwrap(reply[1]) as T;
        case 'none':
          return undefined;
        case 'failed':
          throw new ShoalError(
            'SHOAL_LOADER_FAILED',
            `the loader of ${JSON.stringify(key)} failed on the caller holding the lease: ${reply[1]}`,
            { key },
          );
        case 'lease':
          return this.load(key, reply[2], reply[1] === null ? undefined : reply[1], loader, options);
        case 'busy':
          continue;
        default:
          throw new ShoalError('SHOAL_PROTOCOL_INVALID', `unexpected load reply ${JSON.stringify(reply)}`);
      }
    }
  }

  private async load<T>(
    key: string,
    token: number,
    stale: unknown,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
  ): Promise<T | undefined> {
    this.loaderCalls++;
    const finished = (async () => {
      let value: T;
      try {
        value = await loader(key);
        if (value !== undefined) this.transport.checkValue(value);
      } catch (err) {
        await this.transport.done(key, token, 'error', (err as Error)?.message ?? String(err), options).catch(() => {});
        throw err;
      }
      await this.transport.done(key, token, value === undefined ? 'none' : 'value', value, options);
      return value;
    })();
    const soft = stale !== undefined ? options.timeoutMs : undefined;
    const limit = soft ?? options.hardTimeoutMs;
    try {
      if (limit === undefined) return await finished;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), limit);
      });
      const first = await Promise.race([finished, expired]).finally(() => clearTimeout(timer));
      if (first !== 'timeout') return first;
      finished.catch(() => {}); // keeps running; its value is stored when it arrives
      if (soft !== undefined) return unwrap(stale) as T;
      throw new ShoalError(
        'SHOAL_LOADER_TIMEOUT',
        `the loader of ${JSON.stringify(key)} took longer than hardTimeout ${limit} ms`,
        { key },
      );
    } catch (err) {
      if (stale !== undefined && !isShoalError(err, 'SHOAL_LOADER_TIMEOUT')) return unwrap(stale) as T;
      throw err;
    }
  }
}
