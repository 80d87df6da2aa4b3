/**
 * Gossip traffic of a real, idle 3-node cluster: what each node's transport
 * sent (messages and msgpack frame bytes) per second over a steady-state
 * window, with anti-entropy off so membership is all there is on the wire. It
 * cross-checks the simulated figure for the same size (gossip-cost.ts).
 */
import { LocalCluster } from './local-cluster.js';
import type { ClusterParams } from './params.js';
import type { TrafficCounters } from './worker-protocol.js';

export interface GossipTraffic {
  readonly nodes: number;
  readonly windowMs: number;
  /** Per node: what it sent during the window. */
  readonly perNode: readonly (TrafficCounters & { readonly node: string })[];
  readonly messagesPerNodePerSec: number;
  readonly bytesPerNodePerSec: number;
}

/** null when the node's transport counters cannot be read (they are internal). */
export async function measureGossipTraffic(p: ClusterParams): Promise<GossipTraffic | null> {
  const cluster = await LocalCluster.start({
    size: p.nodes,
    idPrefix: 'g',
    readyTimeoutMs: p.readyTimeoutMs,
    antiEntropyIntervalMs: 0,
  });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const snapshot = () =>
      Promise.all(cluster.nodes.map((n) => n.request<TrafficCounters | null>({ type: 'traffic' }, 10_000)));
    // the warm-up lets the join's broadcasts run out
    await new Promise((resolve) => setTimeout(resolve, p.gossipReal.warmupMs));
    const before = await snapshot();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, p.gossipReal.windowMs));
    const after = await snapshot();
    const windowMs = performance.now() - t0;
    if (before.some((c) => c === null) || after.some((c) => c === null)) return null;
    const perNode = cluster.nodes.map((n, i) => {
      const a = after[i]!;
      const b = before[i]!;
      return {
        node: n.nodeId,
        messagesOut: a.messagesOut - b.messagesOut,
        framesOut: a.framesOut - b.framesOut,
        bytesOut: a.bytesOut - b.bytesOut,
      };
    });
    const perSec = 1000 / (windowMs * perNode.length);
    return {
      nodes: perNode.length,
      windowMs,
      perNode,
      messagesPerNodePerSec: perNode.reduce((s, c) => s + c.messagesOut, 0) * perSec,
      bytesPerNodePerSec: perNode.reduce((s, c) => s + c.bytesOut, 0) * perSec,
    };
  } finally {
    await cluster.stop();
  }
}
