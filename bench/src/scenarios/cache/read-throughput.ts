/**
 * The read-throughput measurement, run inside one worker process: a fixed
 * Zipf trace over a key list, each read awaited one after the other, against
 * either a Shoal node's `cache.get` (with or without its near cache) or
 * lru-cache behind an `async` function (the cost of a promise per read that
 * any async cache API pays). Same trace, same keys, same loop for both.
 */
import { LRUCache } from 'lru-cache';
import { Prng } from '../../lib/prng.js';
import { ZipfGenerator } from '../../lib/zipf.js';

/** The read workload; every contender replays exactly this. */
export interface ReadSpec {
  readonly keys: readonly string[];
  readonly zipfS: number;
  readonly traceOps: number;
  readonly seed: number;
  readonly rounds: number;
  /** A phase stops adding rounds after this long. */
  readonly maxMs: number;
}

/** Ops/s of each timed round. */
export interface ReadResult {
  readonly opsPerSec: readonly number[];
  /** Reads that returned undefined in the timed rounds (should be 0: every key was written). */
  readonly misses: number;
}

/** Trace of key indices: rank r of the Zipf draw is keys[r]. */
export function readTrace(spec: Pick<ReadSpec, 'keys' | 'zipfS' | 'traceOps' | 'seed'>): Uint32Array {
  const zipf = new ZipfGenerator(spec.keys.length, spec.zipfS, new Prng(spec.seed));
  const trace = new Uint32Array(spec.traceOps);
  for (let i = 0; i < trace.length; i++) trace[i] = zipf.next();
  return trace;
}

/** Warms with two passes over every key, then times `rounds` passes over the trace (`timed` is called in between). */
export async function measureReads(
  spec: ReadSpec,
  get: (key: string) => Promise<unknown>,
  timed: () => void = () => {},
): Promise<ReadResult> {
  const trace = readTrace(spec);
  const keys = spec.keys;
  for (let pass = 0; pass < 2; pass++) for (const key of keys) await get(key);
  timed();
  const opsPerSec: number[] = [];
  let misses = 0;
  const started = performance.now();
  for (let round = 0; round < spec.rounds && performance.now() - started < spec.maxMs; round++) {
    const t0 = performance.now();
    for (let i = 0; i < trace.length; i++) {
      if ((await get(keys[trace[i] as number] as string)) === undefined) misses++;
    }
    opsPerSec.push(trace.length / ((performance.now() - t0) / 1000));
  }
  return { opsPerSec, misses };
}

/** The anchor: lru-cache holding every key, read through an awaited async function. */
export async function measureLruReads(spec: ReadSpec, value: string): Promise<ReadResult> {
  const lru = new LRUCache<string, string>({ max: spec.keys.length });
  for (const key of spec.keys) lru.set(key, value);
  const get = async (key: string) => lru.get(key);
  return measureReads(spec, get);
}
