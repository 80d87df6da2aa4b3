/**
 * Zipf-distributed ranks: rank r (0-based) is drawn with probability
 * proportional to 1 / (r + 1)^s. Sampling inverts a precomputed CDF by binary
 * search (about 20 steps for a million ranks): exact, simple, and fast enough
 * to pre-generate millions of accesses before any timing starts.
 */
import type { Prng } from './prng.js';

/** Draws ranks in [0, n) from Zipf(s); rank 0 is the most popular. */
export class ZipfGenerator {
  /** cdf[r] = P(rank <= r); non-decreasing, cdf[n - 1] === 1. */
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
    private readonly rng: Prng,
  ) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    if (!(s >= 0 && Number.isFinite(s))) throw new RangeError(`zipf: s must be a finite number >= 0, got ${s}`);
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += 1 / (r + 1) ** s;
      cdf[r] = sum;
    }
    for (let r = 0; r < n; r++) cdf[r] = (cdf[r] as number) / sum;
    cdf[n - 1] = 1; // guard against rounding leaving the last bucket short
    this.cdf = cdf;
  }

  /** Exact probability of `rank`. */
  probability(rank: number): number {
    const cdf = this.cdf;
    return rank === 0 ? (cdf[0] as number) : (cdf[rank] as number) - (cdf[rank - 1] as number);
  }

  /** Next rank: the smallest r with cdf[r] > u for a uniform u in [0, 1). */
  next(): number {
    const u = this.rng.nextFloat();
    const cdf = this.cdf;
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
