/**
 * Sizes and durations of the `cluster` scenario, full and quick. Quick runs
 * every step (ring simulation, gossip simulation, detection, stalls,
 * throughput with its anchor, real gossip traffic) in about half a minute;
 * its numbers are not meaningful.
 */

export interface ClusterParams {
  /** Nodes of the real cluster. */
  readonly nodes: number;
  /** Deadline for a node process to listen and join, ms. */
  readonly readyTimeoutMs: number;
  /** Deadline for every node to see every other alive, ms. */
  readonly convergeTimeoutMs: number;
  readonly ring: { readonly timeoutMs: number };
  readonly gossipSim: { readonly sizes: readonly number[]; readonly timeoutMs: number };
  readonly detection: {
    /** Minimum number of kills (the run count is max(this, --runs) in full mode). */
    readonly minRuns: number;
    /** The kill comes a uniform [min, max] ms after convergence, so it does not align with probe ticks. */
    readonly killDelayMs: readonly [number, number];
    /** A survivor that has not declared the victim dead by then counts as detecting at this time. */
    readonly deadlineMs: number;
  };
  readonly stalls: {
    readonly durationMs: number;
    readonly stallMs: number;
    readonly everyMs: number;
    readonly jitterMs: number;
    /** Observation continues this long after the stalls end (a suspicion raised at the end still shows). */
    readonly graceMs: number;
  };
  readonly throughput: {
    readonly warmupMs: number;
    readonly durationMs: number;
    readonly concurrency: number;
    readonly keys: number;
    readonly readFraction: number;
    readonly valueBytes: number;
    /** All workers start at the same wall time, this long after the command is sent. */
    readonly startLeadMs: number;
  };
  readonly gossipReal: { readonly warmupMs: number; readonly windowMs: number };
}

export const FULL: ClusterParams = {
  nodes: 3,
  readyTimeoutMs: 20_000,
  convergeTimeoutMs: 20_000,
  ring: { timeoutMs: 600_000 },
  gossipSim: { sizes: [3, 10, 50, 100, 300, 1000], timeoutMs: 1_500_000 },
  detection: { minRuns: 8, killDelayMs: [300, 1300], deadlineMs: 20_000 },
  stalls: { durationMs: 60_000, stallMs: 200, everyMs: 1000, jitterMs: 200, graceMs: 2000 },
  throughput: {
    warmupMs: 1000,
    durationMs: 5000,
    concurrency: 64,
    keys: 10_000,
    readFraction: 0.9,
    valueBytes: 100,
    startLeadMs: 1500,
  },
  gossipReal: { warmupMs: 5000, windowMs: 30_000 },
};

export const QUICK: ClusterParams = {
  ...FULL,
  ring: { timeoutMs: 60_000 },
  gossipSim: { sizes: [3, 10, 100], timeoutMs: 60_000 },
  detection: { ...FULL.detection, minRuns: 2 },
  stalls: { ...FULL.stalls, durationMs: 5000, graceMs: 500 },
  throughput: { ...FULL.throughput, warmupMs: 300, durationMs: 1500 },
  gossipReal: { warmupMs: 500, windowMs: 2000 },
};
