/**
 * Order statistics for benchmark samples. Benchmarks report medians with
 * min/max (never means alone): a noisy VM produces outliers in one direction
 * only, and the median shrugs them off while min/max show the spread.
 */

/** Median, extremes and count of a set of samples. */
export interface Summary {
  /** Middle sample (mean of the two middle ones for an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Number of samples. */
  readonly n: number;
}

function sortedCopy(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('stats: no samples');
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`stats: sample ${v} is not a finite number`);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0..100) with linear interpolation between closest
 * ranks (the same definition as numpy's default), so `percentile(xs, 50)`
 * equals `median(xs)`.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`stats: percentile ${p} is outside 0..100`);
  const sorted = sortedCopy(values);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** Middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function min(values: readonly number[]): number {
  return sortedCopy(values)[0] as number;
}

export function max(values: readonly number[]): number {
  const sorted = sortedCopy(values);
  return sorted[sorted.length - 1] as number;
}

/** Median, min, max, mean and count in one pass over a sorted copy. */
export function summarize(values: readonly number[]): Summary {
  const sorted = sortedCopy(values);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    median: percentile(sorted, 50),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
    n: sorted.length,
  };
}

/** The `p`-th percentile of an ascending array by nearest rank (no interpolation: a latency that was measured). */
export function sortedPercentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
