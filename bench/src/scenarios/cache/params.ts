/**
 * Sizes and durations of the `cache` scenario, full and quick. Every phase is
 * bounded by a count and by a time cap. Quick runs each part once against
 * both contenders in about 20 s; its numbers are not meaningful.
 */

/** Distinct keys written once each at `ratePerSec`, open loop. */
export interface RatePhase {
  readonly ratePerSec: number;
  /** Written at the rate before the sampled ones, not sampled (JIT, connections, first batches). */
  readonly warmupWrites: number;
  /** Sampled writes: writes / ratePerSec is the measured window. */
  readonly writes: number;
}

export interface CacheParams {
  /** Deadline for a worker to start its cache (node listening, Redis connected), ms. */
  readonly readyTimeoutMs: number;
  /** Deadline for a cluster to agree on its table and for an invalidation path to be live, ms. */
  readonly settleTimeoutMs: number;
  /** Write on process A, drop seen on process B: one phase per rate, in order, on the same processes. */
  readonly invalidation: {
    /** The first is the rate the target is set at; a lower one shows the path without a saturated writer. */
    readonly phases: readonly RatePhase[];
    readonly valueBytes: number;
    /** Cap on a paced phase, and separately on waiting for its last drops. */
    readonly maxMs: number;
    /** Near cache / L1 size of the observing process. */
    readonly observerEntries: number;
  };
  /** Sequential awaited reads of one embedded node on a Zipf mix. */
  readonly reads: {
    readonly keys: number;
    readonly zipfS: number;
    readonly traceOps: number;
    /** Reads of a round past the near cache (the trace's first ones): each is a round trip, ~50x slower. */
    readonly bypassTraceOps: number;
    readonly rounds: number;
    readonly maxMs: number;
    readonly valueBytes: number;
    readonly seed: number;
  };
  /** Concurrent read-through misses spread across processes. */
  readonly stampede: {
    readonly processes: number;
    readonly calls: number;
    readonly keys: number;
    /** The simulated database query. */
    readonly loaderMs: number;
    /** Processes start their calls together, this far after the parent says go. */
    readonly startLeadMs: number;
  };
}

export const FULL: CacheParams = {
  readyTimeoutMs: 20_000,
  settleTimeoutMs: 20_000,
  invalidation: {
    phases: [
      { ratePerSec: 10_000, warmupWrites: 10_000, writes: 30_000 },
      { ratePerSec: 1000, warmupWrites: 1000, writes: 3000 },
    ],
    valueBytes: 100,
    maxMs: 15_000,
    observerEntries: 10_000,
  },
  reads: {
    keys: 10_000,
    zipfS: 0.99,
    traceOps: 200_000,
    bypassTraceOps: 20_000,
    rounds: 5,
    maxMs: 15_000,
    valueBytes: 100,
    seed: 7,
  },
  stampede: { processes: 3, calls: 1000, keys: 10, loaderMs: 50, startLeadMs: 300 },
};

export const QUICK: CacheParams = {
  ...FULL,
  invalidation: {
    ...FULL.invalidation,
    phases: [{ ratePerSec: 10_000, warmupWrites: 2000, writes: 4000 }],
    maxMs: 5000,
  },
  reads: { ...FULL.reads, keys: 1000, traceOps: 20_000, bypassTraceOps: 2000, rounds: 2, maxMs: 3000 },
};
