/**
 * Throughput as the cluster grows: a fresh cluster of `nodes` node processes,
 * driven by as many load processes, each one @shoal/client first connected to
 * a different node (the client then routes every key to its owner), and
 * the anchor line: one redis-server driven by the same number of ioredis load
 * processes. CPU of the servers is read from /proc over the timed window.
 */
import { cpuInWindow } from '../../lib/process-cpu.js';
import type { RedisServer } from '../../lib/redis-anchor.js';
import { runTask } from '../../runner/child-runner.js';
import type { LoadResult, LoadSpec } from '../cluster/load.js';
import { LocalCluster } from '../cluster/local-cluster.js';
import type { RedisLoadInput, RedisPrefillInput } from '../cluster/redis-load-task.js';
import type { ClientLoadInput } from './client-load-task.js';
import type { ScalingParams } from './params.js';

/** One run at one cluster size. */
export interface SizeRun {
  readonly nodes: number;
  readonly workers: readonly LoadResult[];
  /** Sum over load processes. */
  readonly opsPerSec: number;
  /** CPU µs of the server processes (every node, or redis-server) in the timed window; null if unreadable. */
  readonly serverCpuUs: number | null;
  /** CPU µs of the load processes in the window. */
  readonly clientCpuUs: number;
}

const clientTask = new URL('./client-load-task.js', import.meta.url);
const redisTask = new URL('../cluster/redis-load-task.js', import.meta.url);

type Throughput = ScalingParams['throughput'];

function spec(t: Throughput, seed: number, startAt: number): LoadSpec {
  const { warmupMs, durationMs, concurrency, keys, readFraction, valueBytes } = t;
  return { startAt, warmupMs, durationMs, concurrency, keys, readFraction, valueBytes, seed };
}

const budget = (t: Throughput): number => t.startLeadMs + t.warmupMs + t.durationMs + 30_000;

/** Starts `count` load tasks together and reads the servers' CPU over their timed window. */
async function drive(
  t: Throughput,
  serverPids: readonly number[],
  count: number,
  input: (i: number, startAt: number) => { exportName: string; module: URL; input: unknown },
): Promise<Omit<SizeRun, 'nodes'>> {
  // the lead covers forking and connecting the load processes, so they start together
  const startAt = Date.now() + t.startLeadMs;
  const windowStart = startAt + t.warmupMs;
  const serverCpu = cpuInWindow(serverPids, windowStart, windowStart + t.durationMs);
  const workers = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const task = input(i, startAt);
      return runTask<unknown, LoadResult>({ ...task, timeoutMs: budget(t) });
    }),
  );
  return {
    workers,
    opsPerSec: workers.reduce((s, w) => s + w.opsPerSec, 0),
    serverCpuUs: await serverCpu,
    clientCpuUs: workers.reduce((s, w) => s + w.cpuUs, 0),
  };
}

/** Fresh cluster of `nodes`; each node writes its share of the keys, then one client load process per node. */
export async function measureShoalAtSize(p: ScalingParams, nodes: number, run: number): Promise<SizeRun> {
  const t = p.throughput;
  const cluster = await LocalCluster.start({
    size: nodes,
    idPrefix: `s${nodes}r${run}`,
    readyTimeoutMs: p.readyTimeoutMs,
  });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const fill = { keys: t.keys, valueBytes: t.valueBytes, concurrency: t.concurrency };
    await Promise.all(
      cluster.nodes.map((n, i) => n.request({ type: 'prefill', spec: fill, shard: i, shards: nodes }, 60_000)),
    );
    const result = await drive(
      t,
      cluster.nodes.map((n) => n.pid),
      nodes,
      (i, startAt) => ({
        module: clientTask,
        exportName: 'shoalClientLoad',
        input: {
          address: cluster.nodes[i]?.address ?? '',
          spec: spec(t, run * 100 + i, startAt),
        } satisfies ClientLoadInput,
      }),
    );
    return { nodes, ...result };
  } finally {
    await cluster.stop();
  }
}

/** The anchor line: the one server, prefilled, driven by `loaders` ioredis processes. */
export async function measureRedisAtSize(
  p: ScalingParams,
  server: Pick<RedisServer, 'port' | 'pid'>,
  loaders: number,
  run: number,
): Promise<SizeRun> {
  const t = p.throughput;
  await runTask<RedisPrefillInput, { written: number }>({
    module: redisTask,
    exportName: 'redisPrefill',
    input: { port: server.port, spec: { keys: t.keys, valueBytes: t.valueBytes, concurrency: t.concurrency } },
    timeoutMs: 60_000,
  });
  const result = await drive(t, [server.pid], loaders, (i, startAt) => ({
    module: redisTask,
    exportName: 'redisLoad',
    input: { port: server.port, spec: spec(t, run * 100 + i, startAt) } satisfies RedisLoadInput,
  }));
  return { nodes: loaders, ...result };
}
