/**
 * Part (a): invalidation latency. Process A writes distinct keys at a paced
 * rate; process B records when its cache dropped each one; both stamp wall
 * time (latency.ts), B's corrected by the skew between the two clocks
 * measured over IPC just before. Shoal: B has a near cache and every key's
 * primary is A, so each write leaves A on its invalidation stream.
 * BentoCache: A's `set` reaches B over the Redis bus.
 */
import { type LatencyRun, pairLatencies } from './latency.js';
import type { PacedRun } from './pacing.js';
import type { CacheParams, RatePhase } from './params.js';
import { measureSkew, proveInvalidationPath, waitFor } from './processes.js';
import type { CacheWorker } from './worker-client.js';

/** One rate phase of one run of one contender. */
export interface InvalidationPhase {
  readonly ratePerSec: number;
  readonly latency: LatencyRun;
  readonly writes: PacedRun;
  /** Observer clock minus writer clock, removed from every latency, and the bound on its error. */
  readonly skew: { readonly skewMs: number; readonly errorMs: number };
}

/** Every phase of one run, in the order of the params. */
export type InvalidationRun = readonly InvalidationPhase[];

async function measure(
  writer: CacheWorker,
  observer: CacheWorker,
  keys: readonly string[],
  phase: RatePhase,
  p: CacheParams,
): Promise<InvalidationPhase> {
  const { valueBytes, maxMs } = p.invalidation;
  const { ratePerSec, warmupWrites } = phase;
  await observer.call('watch', null, p.readyTimeoutMs);
  const skew = await measureSkew(writer, observer, p.readyTimeoutMs);
  const { writtenAt, run } = await writer.call('writePaced', { keys, ratePerSec, maxMs, valueBytes }, maxMs * 2 + 5000);
  await waitFor(
    `${observer.label} to drop ${run.issued} keys`,
    async () => (await observer.call('dropCount', null, p.readyTimeoutMs)) >= run.issued,
    maxMs,
  ).catch(() => {}); // what never arrived is counted as missing below
  const sampled = Math.min(warmupWrites, run.issued);
  const droppedAt = await observer.call('dropTimes', keys.slice(sampled, run.issued), p.readyTimeoutMs);
  return {
    ratePerSec,
    latency: pairLatencies(writtenAt.subarray(sampled, run.issued), droppedAt, skew.skewMs),
    writes: run,
    skew,
  };
}

/** Shoal: `writer` writes keys whose primary is itself (`writerId`); `observer` has a near cache. */
export async function shoalInvalidation(
  writer: CacheWorker,
  observer: CacheWorker,
  writerId: string,
  p: CacheParams,
  run: number,
): Promise<InvalidationRun> {
  const primary = writerId;
  const probes = await writer.call('shoalKeys', { prefix: `probe:${run}:`, count: 8, primary }, p.readyTimeoutMs);
  await proveInvalidationPath(writer, observer, probes, p.settleTimeoutMs);
  const phases: InvalidationPhase[] = [];
  for (const [i, phase] of p.invalidation.phases.entries()) {
    const keys = await writer.call(
      'shoalKeys',
      { prefix: `inv:${run}:${i}:`, count: phase.warmupWrites + phase.writes, primary },
      p.readyTimeoutMs,
    );
    phases.push(await measure(writer, observer, keys, phase, p));
  }
  return phases;
}

/** BentoCache: `writer` sets, `observer` hears of it on the Redis bus. */
export async function bentoInvalidation(
  writer: CacheWorker,
  observer: CacheWorker,
  p: CacheParams,
  run: number,
): Promise<InvalidationRun> {
  const probes = Array.from({ length: 8 }, (_, i) => `probe:${run}:${i}`);
  await proveInvalidationPath(writer, observer, probes, p.settleTimeoutMs);
  const phases: InvalidationPhase[] = [];
  for (const [i, phase] of p.invalidation.phases.entries()) {
    const keys = Array.from({ length: phase.warmupWrites + phase.writes }, (_, k) => `inv:${run}:${i}:${k}`);
    phases.push(await measure(writer, observer, keys, phase, p));
  }
  return phases;
}
