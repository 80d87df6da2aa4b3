/**
 * The load generator of the `client` scenario, run by runTask in its own
 * child process, one contender per process: @shoal/client against a Shoal
 * node, or ioredis (plain, or with enableAutoPipelining) against Redis. Each
 * run measures, on the same prefilled keys and value size: get throughput
 * with a fixed number of calls in flight (with the CPU this process and the
 * server spent per get), get throughput in batches (all of a batch issued at
 * once; ioredis plain uses an explicit pipeline), a concurrency sweep and a
 * Zipf mix. Every phase is bounded by a deadline. Sequential latency is
 * measured apart, all contenders interleaved in one process
 * (client-latency-task.ts).
 */
import { connect } from '@shoal/client';
import { Redis } from 'ioredis';
import { ErrorTally } from '../lib/error-tally.js';
import { Prng } from '../lib/prng.js';
import { processCpuUs } from '../lib/process-cpu.js';
import { sortedPercentile as percentile } from '../lib/stats.js';
import { ZipfGenerator } from '../lib/zipf.js';

/** Which client drives the load. */
export type ClientContender = 'shoal' | 'ioredis' | 'ioredis-auto';

export interface ClientLoadInput {
  readonly contender: ClientContender;
  /** Shoal: ws URL of the node; Redis: port. */
  readonly target: string | number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly batch: number;
  /** The server process (the Shoal node, redis-server), for its CPU per get; null: not measured. */
  readonly serverPid: number | null;
  /** Calls in flight for the concurrency sweep (each level: warm-up, then a window of durationMs / 2). */
  readonly sweep: readonly number[];
}

/** One level of the concurrency sweep. */
export interface SweepPoint {
  readonly inFlight: number;
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
}

export interface ClientLoadResult {
  /** Gets per second with `inFlight` calls outstanding. */
  readonly inFlightOpsPerSec: number;
  /** CPU µs of this load process per get in the in-flight phase (warm-up included, as are its gets). */
  readonly inFlightLoadCpuUs: number;
  /** CPU µs of the server process per get in the same phase; null when it cannot be read (not Linux). */
  readonly inFlightServerCpuUs: number | null;
  /** Gets per second in batches of `batch`. */
  readonly batchOpsPerSec: number;
  /** Throughput and latency at each level of `sweep`. */
  readonly sweep: readonly SweepPoint[];
  /** Gets per second on a Zipf(0.99) key mix with `inFlight` calls outstanding. */
  readonly zipfOpsPerSec: number;
  /** Shoal only: the same Zipf mix through a client with its near cache on (null for the others). */
  readonly zipfNearOpsPerSec: number | null;
  /** Shoal only: near-cache hit ratio over that phase. */
  readonly zipfNearHitRatio: number | null;
  readonly errors: number;
  readonly firstError: string | null;
}

interface Driver {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  /** `keys.length` gets issued together. */
  getBatch(keys: readonly string[]): Promise<unknown>;
  close(): Promise<void>;
}

async function driver(input: ClientLoadInput): Promise<Driver> {
  if (input.contender === 'shoal') {
    const shoal = await connect<string>({ nodes: [input.target as string], timeout: 10_000 });
    return {
      get: (key) => shoal.cache.get(key),
      set: (key, value) => shoal.cache.set(key, value),
      // the client pipelines one tick's calls by itself: a batch is just the calls issued together
      getBatch: (keys) => Promise.all(keys.map((k) => shoal.cache.get(k))),
      close: () => shoal.close(),
    };
  }
  const redis = new Redis({
    host: '127.0.0.1',
    port: input.target as number,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: input.contender === 'ioredis-auto',
  });
  await redis.connect();
  return {
    get: (key) => redis.get(key),
    set: (key, value) => redis.set(key, value),
    getBatch: (keys) => {
      if (input.contender === 'ioredis-auto') return Promise.all(keys.map((k) => redis.get(k)));
      const pipeline = redis.pipeline();
      for (const k of keys) pipeline.get(k);
      return pipeline.exec();
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

const keyOf = (i: number) => `key:${i}`;

/** One measured run of one contender. */
export async function clientLoad(input: ClientLoadInput): Promise<ClientLoadResult> {
  const d = await driver(input);
  const errors = new ErrorTally();
  const fail = errors.note;
  try {
    const value = 'v'.repeat(input.valueBytes);
    for (let i = 0; i < input.keys; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, input.keys - i) }, (_, j) => d.set(keyOf(i + j), value)));
    }

    // closed loop with `inFlight` calls outstanding: warm-up, then the timed window; CPU over both
    let allGets = 0;
    const serverCpuBefore = input.serverPid === null ? null : processCpuUs(input.serverPid);
    const loadCpuBefore = process.cpuUsage();
    const inFlightOpsPerSec = await window(input, async (counting, stop) => {
      let done = 0;
      const loop = async (w: number) => {
        for (let i = w; !stop(); i += input.inFlight) {
          await d.get(keyOf(i % input.keys)).catch(fail);
          allGets++;
          if (counting()) done++;
        }
      };
      await Promise.all(Array.from({ length: input.inFlight }, (_, w) => loop(w)));
      return done;
    });
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const serverCpuAfter = input.serverPid === null ? null : processCpuUs(input.serverPid);
    const perGet = (us: number) => (allGets === 0 ? 0 : us / allGets);

    // batches: `batch` gets issued together, the next batch once all answered
    const batchOpsPerSec = await window(input, async (counting, stop) => {
      let done = 0;
      for (let i = 0; !stop(); i += input.batch) {
        const keys = Array.from({ length: input.batch }, (_, j) => keyOf((i + j) % input.keys));
        await d.getBatch(keys).catch(fail);
        if (counting()) done += input.batch;
      }
      return done;
    });

    // concurrency sweep: ops/s and per-call latency at each number of calls in flight
    const sweep: SweepPoint[] = [];
    for (const level of input.sweep) {
      const samples = new Float64Array(200_000);
      let sampled = 0;
      const half = { ...input, durationMs: Math.max(100, Math.floor(input.durationMs / 2)) };
      const opsPerSec = await window(half, async (counting, stop) => {
        let done = 0;
        const loop = async (w: number) => {
          for (let i = w; !stop(); i += level) {
            const started = performance.now();
            await d.get(keyOf(i % input.keys)).catch(fail);
            if (counting()) {
              done++;
              if (sampled < samples.length) samples[sampled++] = (performance.now() - started) * 1000;
            }
          }
        };
        await Promise.all(Array.from({ length: level }, (_, w) => loop(w)));
        return done;
      });
      const sorted = samples.subarray(0, sampled).sort();
      sweep.push({
        inFlight: level,
        opsPerSec,
        p50Us: percentile(sorted, 50),
        p99Us: percentile(sorted, 99),
        p999Us: percentile(sorted, 99.9),
      });
    }

    // Zipf(0.99) reads: the same pre-drawn key sequence for every contender
    const zipf = new ZipfGenerator(input.keys, 0.99, new Prng(7));
    const trace = Array.from({ length: 1 << 16 }, () => keyOf(zipf.next()));
    const zipfPhase = (get: (key: string) => Promise<unknown>) =>
      window(input, async (counting, stop) => {
        let done = 0;
        const loop = async (w: number) => {
          for (let i = w; !stop(); i += input.inFlight) {
            await get(trace[i & (trace.length - 1)] as string).catch(fail);
            if (counting()) done++;
          }
        };
        await Promise.all(Array.from({ length: input.inFlight }, (_, w) => loop(w)));
        return done;
      });
    const zipfOpsPerSec = await zipfPhase((key) => d.get(key));
    let zipfNearOpsPerSec: number | null = null;
    let zipfNearHitRatio: number | null = null;
    if (input.contender === 'shoal') {
      const near = await connect<string>({
        nodes: [input.target as string],
        timeout: 10_000,
        nearCache: { maxEntries: input.keys },
      });
      try {
        zipfNearOpsPerSec = await zipfPhase((key) => near.cache.get(key));
        zipfNearHitRatio = near.nearCacheStats()?.hitRatio ?? null;
      } finally {
        await near.close();
      }
    }

    return {
      zipfOpsPerSec,
      zipfNearOpsPerSec,
      zipfNearHitRatio,
      sweep,
      inFlightOpsPerSec,
      inFlightLoadCpuUs: perGet(loadCpu.user + loadCpu.system),
      inFlightServerCpuUs:
        serverCpuBefore === null || serverCpuAfter === null ? null : perGet(serverCpuAfter - serverCpuBefore),
      batchOpsPerSec,
      errors: errors.count,
      firstError: errors.first,
    };
  } finally {
    await d.close();
  }
}

/**
 * Runs `body` through a warm-up and a timed window; `counting()` says whether
 * a completion falls in the window, `stop()` ends the loops. Returns ops/s.
 */
async function window(
  input: ClientLoadInput,
  body: (counting: () => boolean, stop: () => boolean) => Promise<number>,
): Promise<number> {
  const start = performance.now() + input.warmupMs;
  const end = start + input.durationMs;
  const done = await body(
    () => {
      const now = performance.now();
      return now >= start && now < end;
    },
    () => performance.now() >= end,
  );
  return (done / input.durationMs) * 1000;
}
