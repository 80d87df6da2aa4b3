/**
 * Scenario `scaling`: how Shoal behaves as the cluster grows. (a) Throughput
 * with 1, 2, 3 and 5 node processes, driven by as many @shoal/client load
 * processes, beside one redis-server driven by as many load processes;
 * (b) the cost of a 4th node joining a loaded 3-node cluster: keys and bytes
 * moved against the ideal 1/N share, time to settle, throughput dip. Sizes in
 * scaling/params.ts; what is measured in bench/README.md.
 */
import { alternate, redisAnchor, withRedisServer } from '../lib/alternating-runs.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { nodesSection, type SizeResult } from './scaling/nodes-section.js';
import { measureRedisAtSize, measureShoalAtSize } from './scaling/nodes-throughput.js';
import { FULL, QUICK } from './scaling/params.js';
import { type JoinRun, measureJoin } from './scaling/rebalance.js';
import { rebalanceSection } from './scaling/rebalance-section.js';

export const scaling: Scenario = {
  name: 'scaling',
  description:
    'Throughput vs nodes (1, 2, 3, 5 node processes, one @shoal/client load process each) against one redis-server with as many load processes, CPU per op; rebalancing cost when a 4th node joins a loaded 3-node cluster (keys and bytes moved vs the ideal 1/N, time to settle, throughput dip).',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const sizes = p.throughput.sizes;
    const anchor = redisAnchor(ctx, 'scaling anchor');
    const perSize = anchor.bin === null ? ctx.runs : ctx.runs * 2;
    ctx.progress.start(sizes.length * perSize + (anchor.bin === null ? 0 : 1) + ctx.runs);

    const { results, note, version } = await withRedisServer(ctx, anchor, 'scaling anchor', async (on) => {
      const results: SizeResult[] = [];
      let version: string | null = null;
      for (const nodes of sizes) {
        const r = await alternate(ctx, ctx.runs, on, {
          label: `${nodes} node${nodes === 1 ? '' : 's'}`,
          shoal: (run) => measureShoalAtSize(p, nodes, run),
          anchor: (server, run) => measureRedisAtSize(p, server, nodes, run),
        });
        version = r.anchorVersion;
        results.push({ nodes, shoal: r.shoal, redis: r.anchor });
      }
      return { results, note: on.note, version };
    });
    const joins: JoinRun[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      joins.push(await ctx.progress.step(`join run ${run + 1}/${ctx.runs}`, () => measureJoin(p, run)));
    }

    const sections = [
      nodesSection(results, version, p.throughput.concurrency),
      rebalanceSection(joins, p.rebalance.bucketMs),
    ];
    const notes = sections.flatMap((s) => s.notes);
    if (note !== null) notes.push(note);
    if (ctx.machine.cores < Math.max(...sizes) * 2) {
      notes.push(
        `this machine has ${ctx.machine.cores} cores for up to ${Math.max(...sizes)} node processes and as many load processes`,
      );
    }
    return {
      params: { runs: ctx.runs, quick: ctx.quick, ...p },
      comparisons: sections.flatMap((s) => s.comparisons),
      tables: sections.flatMap((s) => s.tables),
      charts: sections.flatMap((s) => s.charts),
      notes,
      data: { throughput: results, redisVersion: version, joins },
    };
  },
};
