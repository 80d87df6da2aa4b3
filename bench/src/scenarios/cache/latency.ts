/**
 * Invalidation latency from two processes' clocks: the writer records when it
 * issued each write, the observer when its cache dropped that key, both as
 * `performance.timeOrigin + performance.now()` (the same monotonic-based wall
 * clock for every process on one machine, up to the sub-ms error of each
 * process's time origin, which estimateSkew measures and removes). Pairing
 * them by key and reducing to percentiles is done here, apart from any I/O,
 * so it can be tested.
 */
import { percentile } from '../../lib/stats.js';

/** p50 / p99 / max of one run's latencies, in ms, and how many writes never showed up as a drop. */
export interface LatencyRun {
  readonly count: number;
  readonly missing: number;
  /** Drops that still came before their write after the skew correction (counted as 0 ms). */
  readonly early: number;
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
 * `skewMs` is how far the observer's clock runs ahead of the writer's
 * (estimateSkew), subtracted from every drop. A drop still before its write
 * (skew beyond the estimate's error) counts as 0 ms, and is counted, rather
 * than hiding a negative number in the percentiles.
 */
export function pairLatencies(writtenAt: ArrayLike<number>, droppedAt: ArrayLike<number>, skewMs = 0): LatencyRun {
  if (writtenAt.length !== droppedAt.length) {
    throw new RangeError(`latency: ${writtenAt.length} writes but ${droppedAt.length} drop times`);
  }
  const latencies: number[] = [];
  let missing = 0;
  let early = 0;
  for (let i = 0; i < writtenAt.length; i++) {
    const dropped = droppedAt[i] as number;
    if (!Number.isFinite(dropped)) {
      missing++;
      continue;
    }
    const latency = dropped - skewMs - (writtenAt[i] as number);
    if (latency < 0) early++;
    latencies.push(Math.max(0, latency));
  }
  if (latencies.length === 0) {
    return { count: 0, missing, early, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  }
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    missing,
    early,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] as number,
  };
}

/** One clock reading of another process: its time and the parent's before and after asking. */
export interface ClockSample {
  readonly sentAt: number;
  readonly remote: number;
  readonly receivedAt: number;
}

/**
 * How far another process's clock runs ahead of this one, from the sample with
 * the shortest round trip (NTP's rule: the remote reading was taken somewhere
 * in that round trip, assumed in its middle); `errorMs` bounds the mistake.
 */
export function estimateSkew(samples: readonly ClockSample[]): { skewMs: number; errorMs: number } {
  if (samples.length === 0) throw new RangeError('skew: no clock samples');
  let best = samples[0] as ClockSample;
  for (const s of samples) if (s.receivedAt - s.sentAt < best.receivedAt - best.sentAt) best = s;
  return { skewMs: best.remote - (best.sentAt + best.receivedAt) / 2, errorMs: (best.receivedAt - best.sentAt) / 2 };
}
