/**
 * Cost of a node joining a loaded 3-node cluster. A quiet join (no load)
 * gives clean counts: keys and store bytes that arrived on some node, frame
 * bytes on the wire, against the ideal share (a 4th node should receive 1/4 of
 * all copies), and the time until every node agrees on the new table and no
 * partition is syncing or handing off. A join under load (each original node
 * running the embedded get/set loop, counted per 100 ms) gives the time to
 * settle under load and the throughput dip. Fresh processes for each join.
 */
import type { LoadResult, LoadSpec } from '../cluster/load.js';
import { LocalCluster } from '../cluster/local-cluster.js';
import type { RebalanceSnapshot, StoreSnapshot } from '../cluster/worker-protocol.js';
import type { ScalingParams } from './params.js';

/** What moved when the 4th node joined. */
export interface JoinCost {
  /** Copies held by the 3 nodes before the join (keys x replicas). */
  readonly copiesBefore: number;
  /** Entries that appeared on a node that did not hold them: the sum of positive entry-count changes. */
  readonly keysMoved: number;
  /** The ideal: copiesBefore / 4 (each copy has a 1 in 4 chance to belong to the newcomer). */
  readonly idealKeys: number;
  /** Store bytes gained, summed like keysMoved. */
  readonly storeBytesMoved: number;
  /** Entries the old nodes dropped after handing off (sum of negative changes). */
  readonly keysDropped: number;
  /** Frame bytes every node sent from before the join until settled (membership included). */
  readonly wireBytes: number;
  /** From the new node listening to the cluster settled, ms. */
  readonly settleMs: number;
}

/** The throughput of the original nodes around the join. */
export interface JoinDip {
  /** Median ops/s over the buckets before the new process started (after warm-up). */
  readonly beforeOpsPerSec: number;
  /** Lowest bucket from the join until settled, as ops/s (null: the load had ended before the join). */
  readonly minOpsPerSec: number | null;
  /** Mean ops/s from the join until settled (null: as above). */
  readonly duringOpsPerSec: number | null;
  /** Median ops/s after settling until the load ends (null if it settled too late to tell). */
  readonly afterOpsPerSec: number | null;
  readonly errors: number;
  readonly firstError: string | null;
}

export interface JoinRun {
  readonly quiet: JoinCost;
  readonly loaded: {
    /** From the new node listening to settled, ms. */
    readonly settleMs: number;
    /** From forking the new node to it listening and having joined, ms. */
    readonly startMs: number;
    /** Operations per bucket summed over the original nodes, from the start of the warm-up. */
    readonly timeline: readonly number[];
    readonly dip: JoinDip;
  };
}

const POLL_MS = 50;
const ORIGINAL = 3;

/** True when every node sees every node alive, has every node in its table, routes alike and moves nothing. */
export function settled(snapshots: readonly RebalanceSnapshot[]): boolean {
  const n = snapshots.length;
  const table = snapshots[0]?.tableHash;
  return snapshots.every(
    (s) => s.alive === n && s.owners === n && s.tableHash === table && s.syncing === 0 && s.handingOff === 0,
  );
}

async function waitSettled(cluster: LocalCluster, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const snapshots = await Promise.all(
      cluster.nodes.map((n) => n.request<RebalanceSnapshot>({ type: 'rebalance' }, 10_000)),
    );
    if (settled(snapshots)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`rebalance: the cluster did not settle within ${timeoutMs} ms of the join`);
}

const stores = (cluster: LocalCluster) =>
  Promise.all(cluster.nodes.map((n) => n.request<StoreSnapshot>({ type: 'store' }, 10_000)));

/** Sum of positive and of negative changes per node; a node absent before counts from zero. */
export function moved(before: readonly StoreSnapshot[], after: readonly StoreSnapshot[]) {
  let keys = 0;
  let bytes = 0;
  let dropped = 0;
  let wire = 0;
  after.forEach((a, i) => {
    const b = before[i] ?? { entries: 0, bytes: 0, bytesOut: 0, bytesIn: 0 };
    keys += Math.max(0, a.entries - b.entries);
    dropped += Math.max(0, b.entries - a.entries);
    bytes += Math.max(0, a.bytes - b.bytes);
    wire += a.bytesOut - b.bytesOut;
  });
  return { keys, bytes, dropped, wire };
}

async function startLoaded(p: ScalingParams, prefix: string): Promise<LocalCluster> {
  const cluster = await LocalCluster.start({ size: ORIGINAL, idPrefix: prefix, readyTimeoutMs: p.readyTimeoutMs });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const { keys, valueBytes, concurrency } = p.rebalance;
    await Promise.all(
      cluster.nodes.map((n, i) =>
        n.request({ type: 'prefill', spec: { keys, valueBytes, concurrency }, shard: i, shards: ORIGINAL }, 120_000),
      ),
    );
    await waitSettled(cluster, p.rebalance.settleTimeoutMs);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

async function quietJoin(p: ScalingParams, run: number): Promise<JoinCost> {
  const cluster = await startLoaded(p, `q${run}`);
  try {
    const before = await stores(cluster);
    await cluster.join(ORIGINAL);
    const joined = performance.now();
    await waitSettled(cluster, p.rebalance.settleTimeoutMs);
    const settleMs = performance.now() - joined;
    const m = moved(before, await stores(cluster));
    const copiesBefore = before.reduce((s, b) => s + b.entries, 0);
    return {
      copiesBefore,
      keysMoved: m.keys,
      idealKeys: copiesBefore / (ORIGINAL + 1),
      storeBytesMoved: m.bytes,
      keysDropped: m.dropped,
      wireBytes: m.wire,
      settleMs,
    };
  } finally {
    await cluster.stop();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? (s[mid] as number)
      : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Element-wise sum of per-load bucket counts (lengths may differ by a bucket). */
export function sumBuckets(lists: readonly (readonly number[])[]): number[] {
  const sum: number[] = [];
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) sum[i] = (sum[i] ?? 0) + (list[i] ?? 0);
  }
  return Array.from(sum, (c) => c ?? 0);
}

/** Reads the dip from the summed per-bucket counts; times are ms since the loads began. */
export function dipOf(
  buckets: readonly number[],
  bucketMs: number,
  window: { warmupMs: number; beforeEndMs: number; joinAtMs: number; settledAtMs: number; endMs: number },
): Omit<JoinDip, 'errors' | 'firstError'> {
  const rate = (count: number) => (count * 1000) / bucketMs;
  const slice = (fromMs: number, toMs: number) =>
    buckets.slice(
      Math.floor(fromMs / bucketMs),
      Math.max(Math.floor(fromMs / bucketMs) + 1, Math.floor(toMs / bucketMs)),
    );
  const before = slice(window.warmupMs, window.beforeEndMs);
  const during = slice(window.joinAtMs, window.settledAtMs);
  // the last bucket is partial (the loads stop inside it)
  const after = window.settledAtMs + bucketMs < window.endMs ? slice(window.settledAtMs, window.endMs - bucketMs) : [];
  return {
    beforeOpsPerSec: rate(median(before)),
    minOpsPerSec: during.length === 0 ? null : rate(Math.min(...during)),
    duringOpsPerSec: during.length === 0 ? null : rate(during.reduce((s, c) => s + c, 0) / during.length),
    afterOpsPerSec: after.length === 0 ? null : rate(median(after)),
  };
}

async function loadedJoin(p: ScalingParams, run: number): Promise<JoinRun['loaded']> {
  const r = p.rebalance;
  const cluster = await startLoaded(p, `l${run}`);
  try {
    const startAt = Date.now() + 500;
    const spec = (i: number): LoadSpec => ({
      startAt,
      warmupMs: r.warmupMs,
      durationMs: r.beforeJoinMs + r.afterJoinMs,
      concurrency: r.concurrency,
      keys: r.keys,
      readFraction: r.readFraction,
      valueBytes: r.valueBytes,
      seed: run * 100 + i,
      bucketMs: r.bucketMs,
    });
    const budget = 500 + r.warmupMs + r.beforeJoinMs + r.afterJoinMs + 30_000;
    const loads = cluster.nodes.map((n, i) => n.request<LoadResult>({ type: 'load', spec: spec(i) }, budget));
    const joinAt = startAt + r.warmupMs + r.beforeJoinMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, joinAt - Date.now())));
    const forkedAtMs = Date.now() - startAt;
    await cluster.join(ORIGINAL);
    const joinedAtMs = Date.now() - startAt;
    const joined = performance.now();
    await waitSettled(cluster, r.settleTimeoutMs);
    const settleMs = performance.now() - joined;
    const results = await Promise.all(loads);
    const buckets = sumBuckets(results.map((w) => w.buckets));
    const dip = dipOf(buckets, r.bucketMs, {
      warmupMs: r.warmupMs,
      beforeEndMs: forkedAtMs,
      // the cluster notices the newcomer once it has joined (the fork before is the process starting);
      // one bucket earlier so the bucket the join lands in is inside the window
      joinAtMs: Math.max(r.warmupMs, joinedAtMs - r.bucketMs),
      settledAtMs: joinedAtMs + settleMs,
      endMs: r.warmupMs + r.beforeJoinMs + r.afterJoinMs,
    });
    return {
      settleMs,
      startMs: joinedAtMs - forkedAtMs,
      timeline: buckets,
      dip: {
        ...dip,
        errors: results.reduce((s, w) => s + w.errors, 0),
        firstError: results.find((w) => w.firstError !== null)?.firstError ?? null,
      },
    };
  } finally {
    await cluster.stop();
  }
}

/** One run: a quiet join and a loaded join, each on a fresh 3-node cluster. */
export async function measureJoin(p: ScalingParams, run: number): Promise<JoinRun> {
  const quiet = await quietJoin(p, run);
  const loaded = await loadedJoin(p, run);
  return { quiet, loaded };
}
