/**
 * Workload sizes of the `store` scenario, full and quick. Quick keeps every
 * code path (fill past capacity, warm-up, all traces, all contenders) at a
 * size that finishes in seconds; its numbers are not meaningful.
 */
import type { TraceSpec } from '../../lib/traces.js';
import type { ThroughputInput } from './throughput-task.js';

export interface HitRatioTrace {
  readonly label: string;
  readonly spec: TraceSpec;
}

export interface StoreParams {
  /** Throughput workload minus the contender. */
  readonly throughput: Omit<ThroughputInput, 'contender'>;
  readonly throughputTimeoutMs: number;
  readonly hitRatio: {
    readonly keySpace: number;
    readonly length: number;
    /** Cache sizes as fractions of the key space (chart x axis). */
    readonly sizes: readonly number[];
    /** The sizes the product targets are checked at. */
    readonly targetSizes: readonly number[];
    readonly traces: readonly HitRatioTrace[];
    readonly timeoutMs: number;
  };
  readonly memory: { readonly entries: number; readonly valueBytes: number; readonly timeoutMs: number };
}

const SEED = 20240611;

function traces(keySpace: number, length: number): HitRatioTrace[] {
  const base = { keySpace, length };
  const phase = Math.round(length / 10); // ten hot/scan cycles, ten working-set shifts
  return [
    { label: 'zipf-0.8', spec: { kind: 'zipf', ...base, seed: SEED + 1, s: 0.8 } },
    { label: 'zipf-0.99', spec: { kind: 'zipf', ...base, seed: SEED + 2, s: 0.99 } },
    {
      label: 'loop-scan',
      spec: {
        kind: 'loop-scan',
        ...base,
        seed: SEED + 3,
        hotFraction: 0.05,
        hotS: 0.9,
        scanFraction: 0.3,
        hotRun: Math.round(phase * 0.7),
      },
    },
    {
      label: 'shifting',
      spec: { kind: 'shifting', ...base, seed: SEED + 4, hotFraction: 0.05, hotS: 0.9, shiftEvery: phase, noise: 0.1 },
    },
  ];
}

export const FULL: StoreParams = {
  throughput: {
    keyCount: 1_000_000,
    capacity: 500_000,
    traceLength: 1_000_000,
    zipfS: 0.99,
    seed: SEED,
    writeFraction: 0.1,
    valuePool: 1024,
    valueBytes: 100,
    warmupRounds: 1,
    timedRounds: 5,
    phaseBudgetMs: 8_000,
  },
  throughputTimeoutMs: 180_000,
  hitRatio: {
    keySpace: 100_000,
    length: 1_000_000,
    sizes: [0.01, 0.02, 0.05, 0.1],
    targetSizes: [0.01, 0.1],
    traces: traces(100_000, 1_000_000),
    timeoutMs: 180_000,
  },
  memory: { entries: 1_000_000, valueBytes: 100, timeoutMs: 120_000 },
};

export const QUICK: StoreParams = {
  throughput: {
    ...FULL.throughput,
    keyCount: 100_000,
    capacity: 50_000,
    traceLength: 200_000,
    warmupRounds: 1,
    timedRounds: 2,
    phaseBudgetMs: 1_000,
  },
  throughputTimeoutMs: 30_000,
  hitRatio: {
    keySpace: 20_000,
    length: 200_000,
    sizes: [0.01, 0.1],
    targetSizes: [0.01, 0.1],
    traces: traces(20_000, 200_000),
    timeoutMs: 30_000,
  },
  memory: { entries: 100_000, valueBytes: 100, timeoutMs: 30_000 },
};
