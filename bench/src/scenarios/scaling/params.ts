/**
 * Sizes and durations of the `scaling` scenario, full and quick. Quick runs
 * both parts (throughput at 1 and 2 nodes, one quiet and one loaded join) in
 * about 30 s; its numbers are not meaningful.
 */

export interface ScalingParams {
  /** Deadline for a node process to listen and join, ms. */
  readonly readyTimeoutMs: number;
  /** Deadline for every node to see every other alive, ms. */
  readonly convergeTimeoutMs: number;
  readonly throughput: {
    /** Cluster sizes (node processes); each also gets as many load processes. */
    readonly sizes: readonly number[];
    readonly warmupMs: number;
    readonly durationMs: number;
    /** Operations in flight per load process (over one client, or one ioredis connection). */
    readonly concurrency: number;
    readonly keys: number;
    readonly readFraction: number;
    readonly valueBytes: number;
    /** Load processes start together, this long after being forked. */
    readonly startLeadMs: number;
  };
  readonly rebalance: {
    /** Keys written to the 3-node cluster before the 4th joins. */
    readonly keys: number;
    readonly valueBytes: number;
    /** Loaded join: operations in flight per original node (embedded load). */
    readonly concurrency: number;
    readonly readFraction: number;
    readonly warmupMs: number;
    /** Loaded join: steady load measured before the join, ms. */
    readonly beforeJoinMs: number;
    /** Loaded join: load continues this long after the join starts, ms. */
    readonly afterJoinMs: number;
    /** Throughput timeline resolution, ms. */
    readonly bucketMs: number;
    /** A join that has not settled by then fails the run, ms. */
    readonly settleTimeoutMs: number;
  };
}

export const FULL: ScalingParams = {
  readyTimeoutMs: 20_000,
  convergeTimeoutMs: 20_000,
  throughput: {
    sizes: [1, 2, 3, 5],
    warmupMs: 1000,
    durationMs: 4000,
    concurrency: 32,
    keys: 10_000,
    readFraction: 0.9,
    valueBytes: 100,
    startLeadMs: 1500,
  },
  rebalance: {
    keys: 50_000,
    valueBytes: 100,
    concurrency: 32,
    readFraction: 0.9,
    warmupMs: 1000,
    beforeJoinMs: 2000,
    afterJoinMs: 8000,
    bucketMs: 100,
    settleTimeoutMs: 60_000,
  },
};

export const QUICK: ScalingParams = {
  ...FULL,
  throughput: { ...FULL.throughput, sizes: [1, 2], warmupMs: 200, durationMs: 800, keys: 2000, startLeadMs: 1000 },
  rebalance: { ...FULL.rebalance, keys: 3000, warmupMs: 200, beforeJoinMs: 500, afterJoinMs: 3000 },
};
