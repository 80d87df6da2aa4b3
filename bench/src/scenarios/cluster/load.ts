/**
 * The closed-loop get/set load of the cluster throughput test, shared by the
 * Shoal node worker and the Redis load task so both contenders replay the same
 * workload: `concurrency` async loops, each with one operation in flight,
 * uniform keys, a seeded get/set mix and fixed-size values. Every loop is
 * bounded by a deadline; only operations completed in the timed window count.
 */
import { Prng } from '../../lib/prng.js';

/** The two operations a contender must offer. */
export interface KeyValueOps {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
}

/** One load run; every worker of a run gets the same spec but its own `seed`. */
export interface LoadSpec {
  /** `Date.now()` at which the loops start (all workers of a run share it); past: start at once. */
  readonly startAt: number;
  /** Untimed run-in before the timed window, ms. */
  readonly warmupMs: number;
  /** Timed window, ms. */
  readonly durationMs: number;
  /** Operations in flight at once (async loops). */
  readonly concurrency: number;
  /** Keys `key:0 .. key:<keys - 1>`, chosen uniformly. */
  readonly keys: number;
  /** Fraction of operations that are gets (0.9 = 90/10). */
  readonly readFraction: number;
  readonly valueBytes: number;
  readonly seed: number;
  /** When set, completed operations are also counted per `bucketMs` from the start of the warm-up (a timeline). */
  readonly bucketMs?: number;
}

/** What one worker measured. */
export interface LoadResult {
  readonly gets: number;
  readonly sets: number;
  /** Operations that rejected (timeouts, quorum failures), timed window only. */
  readonly errors: number;
  /** Length of the timed window actually observed, ms. */
  readonly windowMs: number;
  /** (gets + sets) / window. */
  readonly opsPerSec: number;
  /** How late the loops started after `startAt`, ms (0 when on time). */
  readonly lateStartMs: number;
  /** First error message seen, for the notes. */
  readonly firstError: string | null;
  /** CPU (user + system) this process used during the timed window, µs (`process.cpuUsage`). */
  readonly cpuUs: number;
  /** Operations completed per `bucketMs` since the warm-up began (empty without `bucketMs`). */
  readonly buckets: number[];
}

/** Distinct values cycled through by sets, so a set never stores the value already there by construction. */
const VALUE_VARIANTS = 16;

/** `count` distinct strings of exactly `bytes` ASCII characters. */
export function makeValues(bytes: number, count = VALUE_VARIANTS): string[] {
  return Array.from({ length: count }, (_, i) =>
    `${i.toString(36)}:`.padEnd(bytes, String.fromCharCode(97 + (i % 26))),
  );
}

/** Waits until `Date.now()` reaches `at` (no-op if it is past). */
function until(at: number): Promise<void> {
  const wait = at - Date.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}

/** Writes every key whose index is `shard` modulo `shards`, `concurrency` at a time, so gets hit. */
export async function prefill(
  ops: KeyValueOps,
  spec: Pick<LoadSpec, 'keys' | 'valueBytes' | 'concurrency'>,
  shard: number,
  shards: number,
): Promise<number> {
  const values = makeValues(spec.valueBytes);
  let next = shard;
  let written = 0;
  const loop = async (): Promise<void> => {
    while (next < spec.keys) {
      const k = next;
      next += shards;
      await ops.set(`key:${k}`, values[k % values.length] as string);
      written++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  return written;
}

/** Runs the load and counts what completed inside the timed window. */
export async function runLoad(ops: KeyValueOps, spec: LoadSpec): Promise<LoadResult> {
  const values = makeValues(spec.valueBytes);
  await until(spec.startAt);
  const lateStartMs = Math.max(0, Date.now() - spec.startAt);
  const t0 = performance.now();
  const windowStart = t0 + spec.warmupMs;
  const windowEnd = windowStart + spec.durationMs;
  const buckets: number[] = [];
  const bucketMs = spec.bucketMs ?? 0;
  // read on timers so the window's CPU is bounded by the window, not by the last in-flight operation
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuUs = 0;
  const startTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
  }, spec.warmupMs);
  const endTimer = setTimeout(() => {
    const d = process.cpuUsage(cpuAtStart);
    cpuUs = d.user + d.system;
  }, spec.warmupMs + spec.durationMs);
  let gets = 0;
  let sets = 0;
  let errors = 0;
  let firstError: string | null = null;
  const loop = async (index: number): Promise<void> => {
    const rng = new Prng(spec.seed * 1009 + index);
    // one operation in flight per loop; the deadline bounds the loop
    while (performance.now() < windowEnd) {
      const key = `key:${rng.nextInt(spec.keys)}`;
      const isGet = rng.nextFloat() < spec.readFraction;
      let failed = false;
      try {
        if (isGet) await ops.get(key);
        else await ops.set(key, values[rng.nextInt(values.length)] as string);
      } catch (err) {
        failed = true;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      const now = performance.now();
      if (bucketMs > 0 && !failed) {
        const b = Math.floor((now - t0) / bucketMs);
        buckets[b] = (buckets[b] ?? 0) + 1;
      }
      if (now < windowStart || now > windowEnd) continue;
      if (failed) errors++;
      else if (isGet) gets++;
      else sets++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => loop(i)));
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  if (cpuUs === 0 && cpuAtStart !== undefined) {
    const d = process.cpuUsage(cpuAtStart);
    cpuUs = d.user + d.system;
  }
  const windowMs = spec.durationMs;
  return {
    gets,
    sets,
    errors,
    windowMs,
    opsPerSec: ((gets + sets) * 1000) / windowMs,
    lateStartMs,
    firstError,
    cpuUs,
    buckets: Array.from(buckets, (n) => n ?? 0),
  };
}
