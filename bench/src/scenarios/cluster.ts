/**
 * Scenario `cluster`: (a) ring quality by simulation (balance and data moved
 * on join/leave, 3..1000 nodes); (b) a real 3-node cluster in child processes:
 * failure detection after SIGKILL, false suspicions under event-loop stalls,
 * get/set throughput through the embedded API against a Redis anchor; (c)
 * gossip cost per node, simulated up to 100 nodes and measured on the real
 * cluster. Sizes in cluster/params.ts; what is measured in bench/README.md.
 */
import { runTask } from '../runner/child-runner.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { measureRedisThroughput, measureShoalThroughput, type ThroughputRun } from './cluster/cluster-throughput.js';
import { detectionSection } from './cluster/detection-section.js';
import { type DetectionRun, measureDetectionRun, measureFalseSuspicions } from './cluster/failure-detection.js';
import type { GossipCostOptions, GossipCostRow } from './cluster/gossip-cost.js';
import { gossipSection } from './cluster/gossip-section.js';
import { measureGossipTraffic } from './cluster/gossip-traffic.js';
import { type ClusterParams, FULL, QUICK } from './cluster/params.js';
import { findOnPath, installRedisServer, type RedisServer, startRedisServer } from './cluster/redis-server.js';
import type { RingQualityOptions, RingQualityRow } from './cluster/ring-quality.js';
import { ringSection } from './cluster/ring-section.js';
import { throughputSection } from './cluster/throughput-section.js';

const clusterTask = (file: string): URL => new URL(`./cluster/${file}`, import.meta.url);

/**
 * Finds redis-server, installing it only when allowed; returns the binary or
 * why the anchor is skipped (`what` names the anchor in that note). Shared with
 * the log scenario.
 */
export function redisBinary(ctx: ScenarioContext, what = 'throughput anchor'): { bin: string } | { skipped: string } {
  const found = findOnPath('redis-server');
  if (found !== null) return { bin: found };
  if (!ctx.installAnchors)
    return {
      skipped: `${what} skipped: redis-server is not on PATH (install it, e.g. apt-get install redis-server, or pass --install-anchors)`,
    };
  const error = installRedisServer(ctx.log);
  const installed = findOnPath('redis-server');
  if (installed !== null) return { bin: installed };
  return { skipped: `${what} skipped: ${error ?? 'redis-server still not on PATH after installing'}` };
}

async function runThroughput(ctx: ScenarioContext, p: ClusterParams, redisBin: string | null) {
  const shoal: ThroughputRun[] = [];
  const redis: ThroughputRun[] = [];
  let server: RedisServer | null = null;
  let redisError: string | null = null;
  try {
    if (redisBin !== null) {
      try {
        server = await ctx.progress.step('redis-server start', () => startRedisServer(redisBin));
      } catch (err) {
        redisError = `throughput anchor skipped: ${(err as Error).message}`;
      }
    }
    for (let run = 0; run < ctx.runs; run++) {
      // alternate which contender goes first, so neither always runs on a cooler machine
      const order = run % 2 === 0 ? (['shoal', 'redis'] as const) : (['redis', 'shoal'] as const);
      for (const c of order) {
        if (c === 'shoal') {
          shoal.push(
            await ctx.progress.step(`throughput shoal run ${run + 1}/${ctx.runs}`, () =>
              measureShoalThroughput(p, run),
            ),
          );
        } else if (server !== null) {
          const port = server.port;
          redis.push(
            await ctx.progress.step(`throughput redis run ${run + 1}/${ctx.runs}`, () =>
              measureRedisThroughput(p, port, run),
            ),
          );
        }
      }
    }
  } finally {
    await server?.stop();
  }
  return { shoal, redis: server === null ? null : redis, redisVersion: server?.version ?? null, redisError };
}

export const cluster: Scenario = {
  name: 'cluster',
  description:
    'Ring balance and data moved (simulated, 3-1000 nodes); a real 3-node cluster: failure detection after SIGKILL, false suspicions under 200 ms stalls, get/set throughput vs Redis; gossip cost per node (simulated to 100 nodes, real at 3).',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const detectionRuns = ctx.quick ? p.detection.minRuns : Math.max(p.detection.minRuns, ctx.runs);
    const redis = redisBinary(ctx);
    const redisBin = 'bin' in redis ? redis.bin : null;
    ctx.progress.start(
      2 + detectionRuns + 1 + ctx.runs * (redisBin === null ? 1 : 2) + (redisBin === null ? 0 : 1) + 1,
    );

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
    const throughput = await runThroughput(ctx, p, redisBin);
    const gossipReal = await ctx.progress.step('gossip traffic (real)', () => measureGossipTraffic(p));

    const sections = [
      ringSection(ring.rows),
      detectionSection(detection, stalls, p.detection.deadlineMs),
      throughputSection(throughput, p.throughput.concurrency),
      gossipSection(gossipSim, gossipReal),
    ];
    const notes = [
      'ring, gossip growth, detection and false suspicions have no library anchor: the anchor column holds the ideal or the target itself',
      ...sections.flatMap((s) => s.notes),
    ];
    if ('skipped' in redis) notes.push(redis.skipped);
    if (throughput.redisError !== null) notes.push(throughput.redisError);
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
