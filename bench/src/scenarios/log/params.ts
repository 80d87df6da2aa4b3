/**
 * Sizes and durations of the `log` scenario, full and quick. Every phase is
 * bounded twice: by a message count and by a time cap (a slow contender is
 * measured on what it did within the cap). Quick runs every step against both
 * contenders in well under half a minute; its numbers are not meaningful.
 */

/** A burst: `messages` sent in batches of `window` (all of a batch in flight at once), at most `maxMs`. */
export interface BurstParams {
  readonly messages: number;
  readonly window: number;
  readonly maxMs: number;
  /**
   * Sent first, untimed, the same way but to a side topic/stream, for this
   * long or this many messages, whichever ends first (JIT, the young
   * generation growing to its working size, connections): the timed burst
   * measures the steady state. Shoal nodes reach it after about 2 s of load.
   */
  readonly warmupMs?: number;
  readonly warmupMessages?: number;
}

export interface LogParams {
  /** Nodes of the Shoal cluster (child processes). */
  readonly nodes: number;
  readonly readyTimeoutMs: number;
  readonly convergeTimeoutMs: number;
  /** Partitions of each Shoal topic (the default of createTopic); Redis uses one stream. */
  readonly partitions: number;
  /** Every message value is a string of exactly this many ASCII characters. */
  readonly valueBytes: number;
  /** Append (Shoal) and XADD pipelined (Redis). */
  readonly append: BurstParams;
  readonly consume: {
    /** Shoal consumer concurrency (handlers at once); Redis XREADGROUP COUNT. */
    readonly batch: number;
    readonly maxMs: number;
    /** A consumer that got nothing for this long stops (a contender that lost messages). */
    readonly idleMs: number;
  };
  /** Publish to one subscriber in another process. */
  readonly fanout: BurstParams & { readonly idleMs: number; readonly interestTimeoutMs: number };
  /** Open-loop producer at a fixed rate, consumer in another process. */
  readonly latency: {
    readonly ratePerSec: number;
    /** Sent at the rate but not sampled (JIT, connections, first fetches). */
    readonly warmupMs: number;
    /** Sampled window. */
    readonly durationMs: number;
    readonly idleMs: number;
  };
  /** Processes that must start together get a start time this far ahead (covers forking and connecting). */
  readonly startLeadMs: number;
}

export const FULL: LogParams = {
  nodes: 3,
  readyTimeoutMs: 20_000,
  convergeTimeoutMs: 20_000,
  partitions: 8,
  valueBytes: 100,
  append: { messages: 200_000, window: 500, maxMs: 30_000, warmupMs: 3000, warmupMessages: 1_000_000 },
  consume: { batch: 500, maxMs: 30_000, idleMs: 3000 },
  fanout: { messages: 200_000, window: 500, maxMs: 30_000, idleMs: 3000, interestTimeoutMs: 10_000 },
  latency: { ratePerSec: 2000, warmupMs: 1000, durationMs: 5000, idleMs: 3000 },
  startLeadMs: 1000,
};

export const QUICK: LogParams = {
  ...FULL,
  append: { ...FULL.append, messages: 10_000, maxMs: 5000, warmupMs: 200, warmupMessages: 10_000 },
  consume: { ...FULL.consume, maxMs: 5000, idleMs: 1000 },
  fanout: { ...FULL.fanout, messages: 10_000, maxMs: 5000, idleMs: 1000 },
  latency: { ...FULL.latency, warmupMs: 200, durationMs: 1000, idleMs: 1000 },
  startLeadMs: 500,
};
