/**
 * Scenario `cluster`: (a) ring quality by simulation (balance and data moved
 * on join/leave, 3..1000 nodes); (b) a real 3-node cluster in child processes:
 * failure detection after SIGKILL, false suspicions under event-loop stalls,
 * get/set throughput through the embedded API against a Redis anchor; (c)
 * gossip cost per node, simulated up to 1000 nodes and measured on the real
 * cluster. Sizes in cluster/params.ts; what is measured in bench/README.md.
 */
import { alternatingSteps, redisAnchor, runAlternating } from '../lib/alternating-runs.js';
import { runTask } from '../runner/child-runner.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { measureRedisThroughput, measureShoalThroughput } from './cluster/cluster-throughput.js';
import { detectionSection } from './cluster/detection-section.js';
import { type DetectionRun, measureDetectionRun, measureFalseSuspicions } from './cluster/failure-detection.js';
import type { GossipCostOptions, GossipCostRow } from './cluster/gossip-cost.js';
import { gossipSection } from './cluster/gossip-section.js';
import { measureGossipTraffic } from './cluster/gossip-traffic.js';
import { FULL, QUICK } from './cluster/params.js';
import type { RingQualityOptions, RingQualityRow } from './cluster/ring-quality.js';
import { ringSection } from './cluster/ring-section.js';
import { throughputSection } from './cluster/throughput-section.js';

const clusterTask = (file: string): URL => new URL(`./cluster/${file}`, import.meta.url);

/** Kept for the log scenario, which imports it from here; new code imports lib/redis-anchor.js. */
export { redisBinary } from '../lib/redis-anchor.js';

export const cluster: Scenario = {
  name: 'cluster',
  description:
    'Ring balance and data moved (simulated, 3-1000 nodes); a real 3-node cluster: failure detection after SIGKILL, false suspicions under 200 ms stalls, get/set throughput vs Redis; gossip cost per node (simulated to 1000 nodes, real at 3).',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const detectionRuns = ctx.quick ? p.detection.minRuns : Math.max(p.detection.minRuns, ctx.runs);
    const anchor = redisAnchor(ctx, 'throughput anchor');
    ctx.progress.start(2 + detectionRuns + 1 + alternatingSteps(ctx.runs, anchor) + 1);

    const ring = await ctx.progress.step('ring quality (simulated)', () =>
      runTask<RingQualityOptions, { rows: RingQualityRow[] }>({
        module: clusterTask('ring-quality.js'),
        exportName: 'measureRingQuality',
        input: { quick: ctx.quick },
        timeoutMs: p.ring.timeoutMs,
      }),
    );
    const gossipSim = await ctx.progress.step('gossip cost (simulated)', () =>
      runTask<GossipCostOptions, GossipCostRow[]>({
        module: clusterTask('gossip-cost.js'),
        exportName: 'measureGossipCost',
        input: { quick: ctx.quick, sizes: [...p.gossipSim.sizes] },
        timeoutMs: p.gossipSim.timeoutMs,
      }),
    );
    const detection: DetectionRun[] = [];
    for (let run = 0; run < detectionRuns; run++) {
      detection.push(
        await ctx.progress.step(`failure detection kill ${run + 1}/${detectionRuns}`, () =>
          measureDetectionRun(p, run),
        ),
      );
    }
    const stalls = await ctx.progress.step(`stalls ${(p.stalls.durationMs / 1000).toFixed(0)} s`, () =>
      measureFalseSuspicions(p),
    );
    const throughput = await runAlternating(ctx, anchor, 'throughput anchor', ctx.runs, {
      label: 'throughput',
      shoal: (run) => measureShoalThroughput(p, run),
      anchor: (server, run) => measureRedisThroughput(p, server, run),
    });
    const gossipReal = await ctx.progress.step('gossip traffic (real)', () => measureGossipTraffic(p));

    const sections = [
      ringSection(ring.rows),
      detectionSection(detection, stalls, p.detection.deadlineMs),
      throughputSection(
        { shoal: throughput.shoal, redis: throughput.anchor, redisVersion: throughput.anchorVersion },
        p.throughput.concurrency,
      ),
      gossipSection(gossipSim, gossipReal),
    ];
    const notes = [
      'ring, gossip growth, detection and false suspicions have no library anchor: the anchor column holds the ideal or the target itself',
      ...sections.flatMap((s) => s.notes),
    ];
    if (throughput.note !== null) notes.push(throughput.note);
    return {
      params: { runs: ctx.runs, quick: ctx.quick, detectionRuns, ...p },
      comparisons: sections.flatMap((s) => s.comparisons),
      tables: sections.flatMap((s) => s.tables),
      charts: sections.flatMap((s) => s.charts),
      notes,
      data: { ring: ring.rows, detection, stalls, throughput, gossip: { simulated: gossipSim, real: gossipReal } },
    };
  },
};
