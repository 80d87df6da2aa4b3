/** Failed calls of a load loop: how many, and the first one's message (the rest are usually the same). */
export class ErrorTally {
  count = 0;
  first: string | null = null;

  /** Counts a failure; usable as a `.catch` handler, so one failed call does not stop the loop. */
  readonly note = (err: unknown): void => {
    this.count++;
    this.first ??= String((err as Error)?.message ?? err);
  };
}

/** The `p`-th percentile of an ascending array by nearest rank (no interpolation: a latency that was measured). */
export function sortedPercentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
