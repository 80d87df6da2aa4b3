/**
 * Failure detection on a real cluster with the default (LAN) membership
 * settings: (1) one kill per run, time from SIGKILL to suspect and to dead at
 * each survivor; (2) every node injecting 200 ms event-loop stalls about once a
 * second, counting any suspicion or death of those live members.
 */
import { Prng } from '../../lib/prng.js';
import { LocalCluster } from './local-cluster.js';
import { type DetectionSample, detectionSamples, falseSuspicions } from './observations.js';
import type { ClusterParams } from './params.js';
import type { StallReport } from './stalls.js';
import type { Observation } from './worker-protocol.js';

/** One kill. */
export interface DetectionRun {
  readonly run: number;
  readonly victim: string;
  /** ms between convergence and the kill. */
  readonly killDelayMs: number;
  /** One per survivor, in node order. */
  readonly samples: readonly DetectionSample[];
  /** Whether suspicions came as events (exact) or from the 10 ms poll. */
  readonly suspectEvents: boolean;
}

/** Starts a cluster, waits for convergence, SIGKILLs node `run mod size`, waits for every survivor to bury it. */
export async function measureDetectionRun(p: ClusterParams, run: number): Promise<DetectionRun> {
  const cluster = await LocalCluster.start({ size: p.nodes, idPrefix: `d${run}`, readyTimeoutMs: p.readyTimeoutMs });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const [lo, hi] = p.detection.killDelayMs;
    const killDelayMs = Math.round(lo + new Prng(run + 1).nextFloat() * (hi - lo));
    // a deliberate random offset, not a wait for a condition: the kill must not align with probe ticks
    await new Promise((resolve) => setTimeout(resolve, killDelayMs));
    const victim = cluster.nodes[run % cluster.nodes.length]!;
    const survivors = cluster.nodes.filter((n) => n !== victim).map((n) => n.nodeId);
    const killAt = victim.kill();
    const buried = (): boolean => {
      const views = cluster.views();
      return survivors.every((s) => views.get(s)?.get(victim.nodeId) === 'dead');
    };
    // a survivor still undecided at the deadline is recorded as null (reported as the deadline)
    await cluster.waitUntil(buried, p.detection.deadlineMs, 'detection').catch(() => {});
    return {
      run,
      victim: victim.nodeId,
      killDelayMs,
      samples: detectionSamples(cluster.observations, victim.nodeId, killAt, survivors),
      suspectEvents: cluster.nodes.every((n) => n.suspectEvents),
    };
  } finally {
    await cluster.stop();
  }
}

export interface FalseSuspicionResult {
  readonly durationMs: number;
  /** Per node, what the injector did. */
  readonly stalls: readonly (StallReport & { readonly node: string })[];
  /** Suspect/dead observations of members that were alive throughout; the target is none. */
  readonly falseSuspicions: readonly Observation[];
  readonly suspectEvents: boolean;
}

/** Every node stalls ~`stallMs` every ~`everyMs` for `durationMs`; counts suspicions of the (live) members. */
export async function measureFalseSuspicions(p: ClusterParams): Promise<FalseSuspicionResult> {
  const cluster = await LocalCluster.start({ size: p.nodes, idPrefix: 's', readyTimeoutMs: p.readyTimeoutMs });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const since = Date.now();
    const { durationMs, stallMs, everyMs, jitterMs, graceMs } = p.stalls;
    const reports = await Promise.all(
      cluster.nodes.map((n, i) =>
        n.request<StallReport>(
          { type: 'stall', spec: { durationMs, stallMs, everyMs, jitterMs, seed: 7 + i } },
          durationMs + 30_000,
        ),
      ),
    );
    // keep watching a little: a suspicion raised by the last stall is reported after it
    await new Promise((resolve) => setTimeout(resolve, graceMs));
    const live = cluster.nodes.map((n) => n.nodeId);
    return {
      durationMs,
      stalls: reports.map((r, i) => ({ ...r, node: live[i]! })),
      falseSuspicions: falseSuspicions(cluster.observations, live, since),
      suspectEvents: cluster.nodes.every((n) => n.suspectEvents),
    };
  } finally {
    await cluster.stop();
  }
}
