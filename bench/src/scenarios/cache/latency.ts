/**
 * Invalidation latency from two processes' clocks: the writer records when it
 * issued each write, the observer when its cache dropped that key, both as
 * `performance.timeOrigin + performance.now()` (the same monotonic-based wall
 * clock for every process on one machine). Pairing them by key and reducing
 * to percentiles is done here, apart from any I/O, so it can be tested.
 */
import { percentile } from '../../lib/stats.js';

/** p50 / p99 / max of one run's latencies, in ms, and how many writes never showed up as a drop. */
export interface LatencyRun {
  readonly count: number;
  readonly missing: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Wall time in ms with sub-ms resolution, comparable across processes of one machine. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Latencies of the writes `writtenAt[i]` (write i issued) against
 * `droppedAt[i]` (the observer's first drop of that key after it, NaN if none).
 * A drop before its write would mean the clocks disagree: it counts as 0 ms
 * rather than hiding a negative number in the percentiles.
 */
export function pairLatencies(writtenAt: ArrayLike<number>, droppedAt: ArrayLike<number>): LatencyRun {
  if (writtenAt.length !== droppedAt.length) {
    throw new RangeError(`latency: ${writtenAt.length} writes but ${droppedAt.length} drop times`);
  }
  const latencies: number[] = [];
  let missing = 0;
  for (let i = 0; i < writtenAt.length; i++) {
    const dropped = droppedAt[i] as number;
    if (!Number.isFinite(dropped)) {
      missing++;
      continue;
    }
    latencies.push(Math.max(0, dropped - (writtenAt[i] as number)));
  }
  if (latencies.length === 0) return { count: 0, missing, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    missing,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] as number,
  };
}
