/**
 * Worker task: get, set and 90/10 mixed throughput of one contender over a
 * fixed Zipf trace. Runs in its own child process; everything (keys, values,
 * trace, op mix) is built before timing, the cache is filled past capacity so
 * eviction is active, and each phase has untimed warm-up rounds before its
 * timed rounds. Rounds are bounded in count and by a per-phase time budget.
 */
import { Prng } from '../../lib/prng.js';
import { generateTrace } from '../../lib/traces.js';
import { type CacheAdapter, type ContenderName, createAdapter } from './contenders.js';
import { buildKeys, buildValues, settleHeap } from './workload.js';

export interface ThroughputInput {
  readonly contender: ContenderName;
  /** Distinct keys (the Zipf population). */
  readonly keyCount: number;
  /** maxEntries of the cache (< keyCount, so eviction runs). */
  readonly capacity: number;
  /** Ops per round (one pass over the trace). */
  readonly traceLength: number;
  readonly zipfS: number;
  readonly seed: number;
  /** Share of sets in the mixed phase (0.1 = 90/10). */
  readonly writeFraction: number;
  /** Distinct values cycled through by sets (power of two). */
  readonly valuePool: number;
  readonly valueBytes: number;
  readonly warmupRounds: number;
  readonly timedRounds: number;
  /** A phase stops adding timed rounds after this long (at least one round always runs). */
  readonly phaseBudgetMs: number;
}

export interface ThroughputOutput {
  readonly contender: ContenderName;
  /** ops/s of each timed round, per phase. */
  readonly get: number[];
  readonly set: number[];
  readonly mixed: number[];
  /** Hit ratio seen by the get phase (sanity: equal across LRU-like contenders). */
  readonly getHitRatio: number;
  readonly entriesAfter: number;
  readonly setupMs: number;
  /** Folded results of every round, so no loop is dead code. */
  readonly checksum: number;
}

type Round = () => number;

function getRound(cache: CacheAdapter, keys: string[], trace: Uint32Array): number {
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    if (cache.get(keys[trace[i] as number] as string) !== undefined) hits++;
  }
  return hits;
}

function setRound(cache: CacheAdapter, keys: string[], values: string[], trace: Uint32Array): number {
  const mask = values.length - 1;
  for (let i = 0; i < trace.length; i++) cache.set(keys[trace[i] as number] as string, values[i & mask] as string);
  return trace.length;
}

function mixedRound(
  cache: CacheAdapter,
  keys: string[],
  values: string[],
  trace: Uint32Array,
  writes: Uint8Array,
): number {
  const mask = values.length - 1;
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i] as number] as string;
    if (writes[i] === 1) cache.set(key, values[i & mask] as string);
    else if (cache.get(key) !== undefined) hits++;
  }
  return hits;
}

async function phase(round: Round, ops: number, input: ThroughputInput, sink: { sum: number }): Promise<number[]> {
  for (let i = 0; i < input.warmupRounds; i++) sink.sum += round();
  await settleHeap(2); // garbage of the previous phase is not billed to this one
  const rates: number[] = [];
  const deadline = performance.now() + input.phaseBudgetMs;
  for (let i = 0; i < input.timedRounds; i++) {
    const started = performance.now();
    sink.sum += round();
    const ended = performance.now();
    rates.push(ops / ((ended - started) / 1000));
    if (ended > deadline) break;
  }
  return rates;
}

export async function measureThroughput(input: ThroughputInput): Promise<ThroughputOutput> {
  if ((input.valuePool & (input.valuePool - 1)) !== 0) throw new RangeError('valuePool must be a power of two');
  const setupStarted = performance.now();
  const keys = buildKeys(input.keyCount);
  const values = buildValues(input.valuePool, input.valueBytes);
  const trace = generateTrace({
    kind: 'zipf',
    keySpace: input.keyCount,
    length: input.traceLength,
    seed: input.seed,
    s: input.zipfS,
  });
  const writes = new Uint8Array(trace.length);
  const rng = new Prng(input.seed ^ 0x5bd1e995);
  for (let i = 0; i < writes.length; i++) writes[i] = rng.nextFloat() < input.writeFraction ? 1 : 0;

  const cache = await createAdapter(input.contender, input.capacity);
  const mask = values.length - 1;
  // Fill past capacity (eviction active from here on), then warm with the trace as a read-through.
  for (let i = 0; i < keys.length; i++) cache.set(keys[i] as string, values[i & mask] as string);
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i] as number] as string;
    if (cache.get(key) === undefined) cache.set(key, values[i & mask] as string);
  }
  const setupMs = performance.now() - setupStarted;

  const sink = { sum: 0 };
  const n = trace.length;
  const getRates = await phase(() => getRound(cache, keys, trace), n, input, sink);
  const getHitRatio = getRound(cache, keys, trace) / n;
  const setRates = await phase(() => setRound(cache, keys, values, trace), n, input, sink);
  const mixedRates = await phase(() => mixedRound(cache, keys, values, trace, writes), n, input, sink);
  const entriesAfter = cache.size();
  cache.close();
  return {
    contender: input.contender,
    get: getRates,
    set: setRates,
    mixed: mixedRates,
    getHitRatio,
    entriesAfter,
    setupMs,
    checksum: sink.sum,
  };
}
