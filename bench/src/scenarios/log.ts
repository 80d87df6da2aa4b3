/**
 * Scenario `log`: Shoal's replicated message log and pub/sub on a real 3-node
 * cluster (child processes) beside Redis Streams and Redis pub/sub on one
 * redis-server started by the bench: append vs XADD pipelined, consume+ack vs
 * XREADGROUP+XACK, fan-out vs PUBLISH/SUBSCRIBE, end-to-end latency at a fixed
 * rate. Sizes in log/params.ts; what is measured in bench/README.md.
 */
import { alternatingSteps, redisAnchor, runAlternating } from '../lib/alternating-runs.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { measureRedisRun, measureShoalRun } from './log/log-runs.js';
import { logSection } from './log/log-section.js';
import { FULL, QUICK } from './log/params.js';

export const log: Scenario = {
  name: 'log',
  description:
    'Message log and pub/sub on a real 3-node cluster vs Redis: append vs XADD pipelined, consume+ack vs XREADGROUP+XACK, fan-out vs PUBLISH/SUBSCRIBE, end-to-end latency p50/p99 at a fixed rate.',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const anchor = redisAnchor(ctx, 'log anchor');
    ctx.progress.start(alternatingSteps(ctx.runs, anchor));
    const runs = await runAlternating(ctx, anchor, 'log anchor', ctx.runs, {
      label: '',
      shoal: (run) => measureShoalRun(p, run),
      anchor: (server, run) => measureRedisRun(p, server.port, run),
    });
    const data = { shoal: runs.shoal, redis: runs.anchor, redisVersion: runs.anchorVersion, redisError: runs.note };
    const section = logSection(data, p);
    const notes = [...section.notes];
    if (runs.note !== null) notes.push(runs.note);
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
