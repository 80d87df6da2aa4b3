/**
 * Scenario `log`: Shoal's replicated message log and pub/sub on a real 3-node
 * cluster (child processes) beside Redis Streams and Redis pub/sub on one
 * redis-server started by the bench: append vs XADD pipelined, consume+ack vs
 * XREADGROUP+XACK, fan-out vs PUBLISH/SUBSCRIBE, end-to-end latency at a fixed
 * rate. Sizes in log/params.ts; what is measured in bench/README.md.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { type RedisServer, startRedisServer } from './cluster/redis-server.js';
import { redisBinary } from './cluster.js';
import { type LogRun, measureRedisRun, measureShoalRun } from './log/log-runs.js';
import { logSection } from './log/log-section.js';
import { FULL, type LogParams, QUICK } from './log/params.js';

async function runAll(ctx: ScenarioContext, p: LogParams, redisBin: string | null) {
  const shoal: LogRun[] = [];
  const redis: LogRun[] = [];
  let server: RedisServer | null = null;
  let redisError: string | null = null;
  try {
    if (redisBin !== null) {
      try {
        server = await ctx.progress.step('redis-server start', () => startRedisServer(redisBin));
      } catch (err) {
        redisError = `log anchor skipped: ${(err as Error).message}`;
      }
    }
    for (let run = 0; run < ctx.runs; run++) {
      // alternate which contender goes first, so neither always runs on a cooler machine
      const order = run % 2 === 0 ? (['shoal', 'redis'] as const) : (['redis', 'shoal'] as const);
      for (const c of order) {
        if (c === 'shoal') {
          shoal.push(await ctx.progress.step(`shoal run ${run + 1}/${ctx.runs}`, () => measureShoalRun(p, run)));
        } else if (server !== null) {
          const port = server.port;
          redis.push(await ctx.progress.step(`redis run ${run + 1}/${ctx.runs}`, () => measureRedisRun(p, port, run)));
        }
      }
    }
  } finally {
    await server?.stop();
  }
  return { shoal, redis: server === null ? null : redis, redisVersion: server?.version ?? null, redisError };
}

export const log: Scenario = {
  name: 'log',
  description:
    'Message log and pub/sub on a real 3-node cluster vs Redis: append vs XADD pipelined, consume+ack vs XREADGROUP+XACK, fan-out vs PUBLISH/SUBSCRIBE, end-to-end latency p50/p99 at a fixed rate.',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const anchor = redisBinary(ctx, 'log anchor');
    const redisBin = 'bin' in anchor ? anchor.bin : null;
    ctx.progress.start(ctx.runs * (redisBin === null ? 1 : 2) + (redisBin === null ? 0 : 1));
    const data = await runAll(ctx, p, redisBin);
    const section = logSection(data, p);
    const notes = [...section.notes];
    if ('skipped' in anchor) notes.push(anchor.skipped);
    if (data.redisError !== null) notes.push(data.redisError);
    const processes = p.nodes + 1;
    if (ctx.machine.cores < processes) {
      notes.push(
        `this machine has ${ctx.machine.cores} cores: Shoal's ${p.nodes} node processes share them, while Redis runs one server and one or two client processes`,
      );
    }
    return {
      params: { runs: ctx.runs, quick: ctx.quick, ...p },
      comparisons: section.comparisons,
      tables: section.tables,
      charts: section.charts,
      notes,
      data,
    };
  },
};
