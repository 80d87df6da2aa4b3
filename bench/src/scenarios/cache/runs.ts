/**
 * One measured run of each contender: its processes started fresh, every part
 * measured on them in turn, then killed by pid. Shoal: 3 node processes, each
 * with a near cache (n0 writes, n1 observes and reads, all three take the
 * stampede). BentoCache: 3 instances sharing one Redis (0 writes, 1 observes,
 * all three take the stampede). One cluster per run instead of one per part
 * keeps the run short enough for `--quick` inside CI.
 */
import type { ScenarioContext } from '../../scenario.js';
import { bentoInvalidation, type InvalidationRun, shoalInvalidation } from './invalidation.js';
import type { CacheParams } from './params.js';
import { startBentoInstances, startShoalCluster } from './processes.js';
import { type ReadRun, shoalReads } from './reads.js';
import { measureStampede, type StampedeRun } from './stampede.js';
import { type CacheWorker, killAll } from './worker-client.js';

export interface ShoalRun {
  readonly invalidation: InvalidationRun;
  readonly near: ReadRun;
  readonly noNear: ReadRun;
  readonly stampede: StampedeRun;
}

export interface BentoRun {
  readonly invalidation: InvalidationRun;
  readonly stampede: StampedeRun;
}

type Step = ScenarioContext['progress']['step'];

/** Steps a Shoal run reports (progress total). */
export const SHOAL_STEPS = 4;
/** Steps a BentoCache run reports. */
export const BENTO_STEPS = 3;

export async function shoalRun(p: CacheParams, run: number, step: Step, of: string): Promise<ShoalRun> {
  const nearEntries = Math.max(p.invalidation.observerEntries, p.reads.keys);
  const sizes = Array.from({ length: p.stampede.processes }, () => nearEntries);
  const { workers, ids } = await step(`shoal cluster start ${of}`, () => startShoalCluster('shoal', sizes, p));
  try {
    const [n0, n1] = workers as [CacheWorker, CacheWorker];
    const n0Id = ids[0] as string;
    const invalidation = await step(`shoal invalidation ${of}`, () => shoalInvalidation(n0, n1, n0Id, p, run));
    const { near, noNear } = await step(`shoal reads ${of}`, () => shoalReads(n0, n1, n0Id, p, run));
    const stampede = await step(`shoal stampede ${of}`, () => measureStampede(workers, p, run));
    return { invalidation, near, noNear, stampede };
  } finally {
    await killAll(workers);
  }
}

export async function bentoRun(
  p: CacheParams,
  run: number,
  redisPort: number,
  step: Step,
  of: string,
): Promise<BentoRun> {
  const entries = Math.max(p.invalidation.observerEntries, p.reads.keys);
  const workers = await step(`bentocache start ${of}`, () =>
    startBentoInstances('bentocache', p.stampede.processes, redisPort, entries, p.readyTimeoutMs),
  );
  try {
    const [writer, observer] = workers as [CacheWorker, CacheWorker];
    const invalidation = await step(`bentocache invalidation ${of}`, () => bentoInvalidation(writer, observer, p, run));
    const stampede = await step(`bentocache stampede ${of}`, () => measureStampede(workers, p, run));
    return { invalidation, stampede };
  } finally {
    await killAll(workers);
  }
}
