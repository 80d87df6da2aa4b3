/**
 * Worker task: hit ratios of every contender, and of Belady's optimal, on one
 * trace at several cache sizes. A read-through simulation: every get that
 * misses is followed by a set of that key. Deterministic, so one run suffices.
 */
import { beladyHits } from '../../lib/belady.js';
import { generateTrace, type TraceSpec } from '../../lib/traces.js';
import { type ContenderName, ContenderUnavailableError, createAdapter } from './contenders.js';
import { buildKeys } from './workload.js';

export interface HitRatioInput {
  /** Trace name in tables ('zipf-0.99'). */
  readonly label: string;
  readonly trace: TraceSpec;
  /** Cache sizes in entries. */
  readonly capacities: readonly number[];
  readonly contenders: readonly ContenderName[];
}

export interface HitRatioCell {
  readonly contender: ContenderName | 'belady';
  readonly capacity: number;
  readonly hits: number;
  readonly gets: number;
  readonly hitRatio: number;
}

export interface HitRatioOutput {
  readonly label: string;
  /** Keys that occur in the trace at least once. */
  readonly distinctKeys: number;
  readonly cells: HitRatioCell[];
  readonly unavailable: { readonly contender: ContenderName; readonly reason: string }[];
}

const VALUE = 'v';

export async function measureHitRatio(input: HitRatioInput): Promise<HitRatioOutput> {
  const trace = generateTrace(input.trace);
  const keys = buildKeys(input.trace.keySpace);
  const seen = new Uint8Array(input.trace.keySpace);
  for (let i = 0; i < trace.length; i++) seen[trace[i] as number] = 1;
  const distinctKeys = seen.reduce((sum, s) => sum + s, 0);

  const cells: HitRatioCell[] = [];
  const unavailable: HitRatioOutput['unavailable'] = [];
  for (const capacity of input.capacities) {
    const opt = beladyHits(trace, input.trace.keySpace, capacity);
    cells.push({ contender: 'belady', capacity, ...opt, hitRatio: opt.hits / opt.gets });
    for (const contender of input.contenders) {
      if (unavailable.some((u) => u.contender === contender)) continue;
      let cache: Awaited<ReturnType<typeof createAdapter>>;
      try {
        cache = await createAdapter(contender, capacity);
      } catch (err) {
        if (!(err instanceof ContenderUnavailableError)) throw err;
        unavailable.push({ contender, reason: err.message });
        continue;
      }
      let hits = 0;
      for (let i = 0; i < trace.length; i++) {
        const key = keys[trace[i] as number] as string;
        if (cache.get(key) === undefined) cache.set(key, VALUE);
        else hits++;
      }
      cache.close();
      cells.push({ contender, capacity, hits, gets: trace.length, hitRatio: hits / trace.length });
    }
  }
  return { label: input.label, distinctKeys, cells, unavailable };
}
