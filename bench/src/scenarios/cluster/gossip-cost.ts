/**
 * Gossip cost of membership per node as the cluster grows (3 to 1000 nodes): N Memberships with
 * the default (LAN) config on the in-memory SimNetwork, on virtual time so
 * minutes of cluster life take seconds, counting every message put on the
 * wire and its msgpack size (the network packs each message with msgpackr, with
 * the wire's settings). SWIM's promise is that this grows no faster than log N.
 */
import { defaultConfig, Membership, SimNetwork, seededRandom, VirtualScheduler } from '@shoal/node';

/** Options of one measurement. */
export interface GossipCostOptions {
  /** Short run (3 and 10 nodes, 60 s simulated) instead of the full one (3..100 nodes, 300 s). */
  readonly quick: boolean;
  /** Cluster sizes to measure. Default [3, 10] quick, [3, 10, 50, 100] full. */
  readonly sizes?: number[];
}

/** Steady-state cost at one cluster size. */
export interface GossipCostRow {
  readonly nodes: number;
  /** Messages (requests, replies, one-way gossip) sent per node per simulated second. */
  readonly messagesPerNodePerSec: number;
  /** Their msgpack bytes per node per simulated second. */
  readonly bytesPerNodePerSec: number;
  /** Simulated time measured, ms. */
  readonly periodMs: number;
}

const JOIN_LIMIT_MS = 120_000; // simulated time allowed for joining and converging
const WARMUP_MS = 30_000; // lets the join broadcasts run out before measuring

/** Runs a cluster of `n` nodes on virtual time and measures `periodMs` of its steady state. */
async function measureOne(n: number, periodMs: number): Promise<GossipCostRow> {
  const scheduler = new VirtualScheduler();
  let measuring = false;
  let messages = 0;
  let bytes = 0;
  const network = new SimNetwork({
    scheduler,
    latencyMs: [1, 5],
    random: seededRandom(n),
    onMessage: (_from, _to, _message, size) => {
      if (!measuring) return;
      messages++;
      bytes += size;
    },
  });
  const members: Membership[] = [];
  for (let i = 0; i < n; i++) {
    const address = `10.0.${i >> 8}.${i & 255}:7000`;
    const sim = network.addNode(address);
    const m = new Membership({
      id: `node-${i}`,
      address,
      transport: sim.transport,
      config: defaultConfig(),
      clock: scheduler,
      timers: sim.timers,
      lagMonitor: sim.lagMonitor,
      random: seededRandom(1000 + i),
      meta: { partitions: 271 },
    });
    sim.attach(m);
    members.push(m);
  }
  try {
    const seed = members[0]!.address;
    let joined = 0;
    for (const m of members) void m.join([seed]).then(() => joined++);
    const converged = () =>
      joined === n && members.every((m) => m.members().filter((x) => x.state === 'alive').length === n);
    if (!(await scheduler.runUntil(converged, JOIN_LIMIT_MS, 100))) {
      throw new Error(`gossip-cost: ${n} nodes did not converge within ${JOIN_LIMIT_MS / 1000} s simulated`);
    }
    await scheduler.run(WARMUP_MS);
    measuring = true;
    await scheduler.run(periodMs);
    measuring = false;
  } finally {
    for (const m of members) m.shutdown();
    network.close();
  }
  const perNodePerSec = 1000 / (n * periodMs);
  return {
    nodes: n,
    messagesPerNodePerSec: messages * perNodePerSec,
    bytesPerNodePerSec: bytes * perNodePerSec,
    periodMs,
  };
}

/**
 * Steady-state gossip cost per node at each cluster size, with the default
 * config: probes (ping, ack, occasional indirect probes), gossip of pending
 * updates, and push-pull full-state syncs whose interval grows with N.
 */
export async function measureGossipCost(opts: GossipCostOptions): Promise<GossipCostRow[]> {
  const sizes = opts.sizes ?? (opts.quick ? [3, 10] : [3, 10, 50, 100]);
  const rows: GossipCostRow[] = [];
  for (const n of sizes) rows.push(await measureOne(n, gossipPeriodMs(n, opts.quick)));
  return rows;
}

/**
 * Simulated time measured at `nodes`: 300 s (60 s quick), but 120 s from 1000
 * nodes, where every simulated second costs about 3 s of CPU (each member's
 * timers scan the member list). 120 s still holds about 30 push-pull
 * exchanges network-wide (one node's interval is 30 s x N/8 = 3750 s).
 */
export function gossipPeriodMs(nodes: number, quick: boolean): number {
  if (quick) return 60_000;
  return nodes >= 1000 ? 120_000 : 300_000;
}

/**
 * How each row's cost grew relative to the smallest cluster, against the
 * growth of log(N + 1): a ratio at or below 1 means "no faster than O(log N)".
 */
export function gossipCostGrowth(
  rows: readonly GossipCostRow[],
): Array<{ nodes: number; messagesGrowthVsLog: number; bytesGrowthVsLog: number }> {
  const base = rows[0];
  if (base === undefined) return [];
  return rows.map((r) => {
    const logGrowth = Math.log(r.nodes + 1) / Math.log(base.nodes + 1);
    return {
      nodes: r.nodes,
      messagesGrowthVsLog: r.messagesPerNodePerSec / base.messagesPerNodePerSec / logGrowth,
      bytesGrowthVsLog: r.bytesPerNodePerSec / base.bytesPerNodePerSec / logGrowth,
    };
  });
}
