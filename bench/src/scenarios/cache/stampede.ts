/**
 * Part (c): stampede. `calls` concurrent read-throughs of `keys` cold keys,
 * split across processes that start at the same wall time, each loader call
 * a simulated query of `loaderMs`. Shoal: 3 nodes, single flight at each
 * key's primary. BentoCache: 3 instances sharing Redis (L2 + bus), whose
 * single flight is per process.
 */

import { wallNow } from './latency.js';
import type { CacheParams } from './params.js';
import type { CacheWorker } from './worker-client.js';

/** One stampede run of one contender. */
export interface StampedeRun {
  /** Loader calls summed over every process. */
  readonly loaderCalls: number;
  readonly keys: number;
  readonly errors: number;
  /** Wall ms from the common start to the last process done. */
  readonly ms: number;
}

/** Each of `workers` takes a share of the calls, all starting together. */
export async function measureStampede(
  workers: readonly CacheWorker[],
  p: CacheParams,
  run: number,
): Promise<StampedeRun> {
  const { calls, keys: keyCount, loaderMs, startLeadMs } = p.stampede;
  const keys = Array.from({ length: keyCount }, (_, k) => `stampede:${run}:${k}`);
  const startAt = wallNow() + startLeadMs;
  const share = Math.ceil(calls / workers.length);
  const results = await Promise.all(
    workers.map((w, i) =>
      w.call(
        'stampede',
        { keys, calls: Math.min(share, calls - i * share), offset: i, startAt, loaderMs },
        startLeadMs + p.settleTimeoutMs,
      ),
    ),
  );
  return {
    loaderCalls: results.reduce((sum, r) => sum + r.loaderCalls, 0),
    keys: keyCount,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    ms: Math.max(...results.map((r) => r.ms)),
  };
}
