/**
 * Scenario `cache`: the cache and messages working together, against the
 * setup Node users reach for (BentoCache with memory L1, Redis L2 and the
 * Redis bus; lru-cache for the in-process read path). Each run starts fresh
 * child processes per contender (cache/runs.ts) and measures three parts: (a) invalidation latency, write on one process to
 * drop on another, at a paced 10k writes/s; (b) read throughput of an
 * embedded node on a Zipf mix with and without its near cache; (c) loader
 * calls per key when 1000 concurrent misses hit 3 processes. Sizes in
 * cache/params.ts; what is measured in bench/README.md.
 */
import { type RedisServer, redisBinary, startRedisServer } from '../lib/redis-anchor.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { type CacheData, cacheReport } from './cache/cache-report.js';
import type { InvalidationRun } from './cache/invalidation.js';
import { type CacheParams, FULL, QUICK } from './cache/params.js';
import { lruReadRun, type ReadRun } from './cache/reads.js';
import { BENTO_STEPS, bentoRun, SHOAL_STEPS, shoalRun } from './cache/runs.js';
import type { StampedeRun } from './cache/stampede.js';

async function runAll(
  ctx: ScenarioContext,
  p: CacheParams,
  redis: RedisServer | null,
  notes: string[],
): Promise<CacheData> {
  const data = {
    invalidation: { shoal: [] as InvalidationRun[], bento: redis === null ? null : ([] as InvalidationRun[]) },
    reads: { near: [] as ReadRun[], noNear: [] as ReadRun[], lru: [] as ReadRun[] },
    stampede: { shoal: [] as StampedeRun[], bento: redis === null ? null : ([] as StampedeRun[]) },
  };
  const step = ctx.progress.step.bind(ctx.progress);
  for (let run = 0; run < ctx.runs; run++) {
    const of = `${run + 1}/${ctx.runs}`;
    const contenders: (() => Promise<void>)[] = [
      async () => {
        const r = await shoalRun(p, run, step, of);
        data.invalidation.shoal.push(r.invalidation);
        data.reads.near.push(r.near);
        data.reads.noNear.push(r.noNear);
        data.stampede.shoal.push(r.stampede);
      },
      async () => {
        data.reads.lru.push(await step(`lru-cache reads ${of}`, () => lruReadRun(p, run)));
      },
    ];
    if (redis !== null) {
      const port = redis.port;
      contenders.push(async () => {
        // the anchor failing (Redis, a driver) leaves a note and fewer anchor runs, not a failed scenario
        const r = await bentoRun(p, run, port, step, of).catch((err: Error) => {
          notes.push(`BentoCache run ${of} failed: ${err.message.split('\n')[0]}`);
          return null;
        });
        if (r === null) return;
        data.invalidation.bento?.push(r.invalidation);
        data.stampede.bento?.push(r.stampede);
      });
    }
    // alternate which contender goes first, so neither always runs on a cooler machine
    if (run % 2 === 1) contenders.reverse();
    for (const contender of contenders) await contender();
  }
  return data;
}

export const cache: Scenario = {
  name: 'cache',
  description:
    'Cache + messages vs BentoCache (L1 + Redis L2 + Redis bus) and lru-cache: invalidation latency p50/p99 at 10k writes/s across processes, near-cache read throughput on a Zipf mix, loader calls per key in a 1000-miss stampede over 3 processes.',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const anchor = redisBinary(ctx, 'BentoCache anchor (needs Redis)');
    const notes: string[] = [];
    if ('skipped' in anchor) notes.push(anchor.skipped);
    ctx.progress.start(ctx.runs * (SHOAL_STEPS + 1 + ('bin' in anchor ? BENTO_STEPS : 0)) + ('bin' in anchor ? 1 : 0));
    let redis: RedisServer | null = null;
    let data: CacheData;
    try {
      if ('bin' in anchor) {
        const bin = anchor.bin;
        redis = await ctx.progress
          .step('redis-server start', () => startRedisServer(bin))
          .catch((err: Error) => {
            notes.push(`BentoCache anchor skipped: ${err.message}`);
            return null;
          });
      }
      data = await runAll(ctx, p, redis, notes);
    } finally {
      await redis?.stop();
    }
    const report = cacheReport(data, p);
    if (ctx.machine.cores < p.stampede.processes) {
      notes.push(
        `this machine has ${ctx.machine.cores} cores: the ${p.stampede.processes} stampede processes (and redis-server for BentoCache) share them`,
      );
    }
    notes.push(
      'invalidation: every write is of a distinct key whose primary is the writing node; the observer records the first drop of each key (Shoal: NearCache.onInvalidate from the stream; BentoCache: bus:message:received)',
    );
    return {
      params: { runs: ctx.runs, quick: ctx.quick, ...p, redisVersion: redis?.version ?? null },
      comparisons: report.comparisons,
      tables: report.tables,
      charts: [],
      notes,
      data,
    };
  },
};
