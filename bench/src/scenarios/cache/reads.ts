/**
 * Part (b): read throughput of one embedded node on a Zipf mix, its reads
 * awaited one after another. The node reads keys whose primary is the other
 * node (the keys a near cache is for): through a near
 * cache sized to hold them all, then past it (each read a round trip to the
 * primary). The anchor is lru-cache behind an awaited async function in a
 * process of its own, on the same trace.
 */
import type { CacheParams } from './params.js';
import { proveInvalidationPath } from './processes.js';
import type { ReadResult, ReadSpec } from './read-throughput.js';
import { CacheWorker } from './worker-client.js';

/** Figures of one contender's run: the median of its timed rounds. */
export interface ReadRun {
  readonly opsPerSec: number;
  readonly misses: number;
  /** Near-cache hit ratio over the timed rounds (Shoal with a near cache only). */
  readonly nearHitRatio: number | null;
}

const medianOf = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function spec(p: CacheParams, keys: readonly string[]): ReadSpec {
  const { zipfS, traceOps, rounds, maxMs, seed } = p.reads;
  return { keys, zipfS, traceOps, rounds, maxMs, seed };
}

const phaseTimeout = (p: CacheParams) => p.reads.maxMs * 3 + 30_000;

function toRun(result: ReadResult & { nearHitRatio?: number | null }): ReadRun {
  if (result.opsPerSec.length === 0) throw new Error('no timed read round completed');
  return { opsPerSec: medianOf(result.opsPerSec), misses: result.misses, nearHitRatio: result.nearHitRatio ?? null };
}

/** Near-cache reads of `reader`, then the same reads past its near cache; keys whose primary is `primaryId`. */
export async function shoalReads(
  primary: CacheWorker,
  reader: CacheWorker,
  primaryId: string,
  p: CacheParams,
  run: number,
): Promise<{ near: ReadRun; noNear: ReadRun }> {
  const probes = await primary.call(
    'shoalKeys',
    { prefix: `probe:${run}:`, count: 8, primary: primaryId },
    p.readyTimeoutMs,
  );
  await proveInvalidationPath(primary, reader, probes, p.settleTimeoutMs);
  const keys = await reader.call(
    'shoalKeys',
    { prefix: `read:${run}:`, count: p.reads.keys, primary: primaryId },
    p.readyTimeoutMs,
  );
  await reader.call('fill', { keys, valueBytes: p.reads.valueBytes }, phaseTimeout(p));
  const near = toRun(await reader.call('shoalReads', { spec: spec(p, keys), bypassNear: false }, phaseTimeout(p)));
  const bypass = { ...spec(p, keys), traceOps: p.reads.bypassTraceOps };
  const noNear = toRun(await reader.call('shoalReads', { spec: bypass, bypassNear: true }, phaseTimeout(p)));
  return { near, noNear };
}

export async function lruReadRun(p: CacheParams, run: number): Promise<ReadRun> {
  const worker = CacheWorker.spawn('lru-cache reads');
  try {
    const keys = Array.from({ length: p.reads.keys }, (_, i) => `read:${run}:${i}`);
    return toRun(
      await worker.call('lruReads', { spec: spec(p, keys), valueBytes: p.reads.valueBytes }, phaseTimeout(p)),
    );
  } finally {
    await worker.kill();
  }
}
