/**
 * Aggregate get/set throughput of a real 3-node Shoal cluster through the
 * embedded API (each node process drives its own `node.cache`), and of the
 * anchor: one unreplicated redis-server driven by as many ioredis processes
 * with the same load. One call is one measured run on fresh processes.
 */
import { cpuInWindow } from '../../lib/process-cpu.js';
import type { RedisServer } from '../../lib/redis-anchor.js';
import { runTask } from '../../runner/child-runner.js';
import type { LoadResult, LoadSpec } from './load.js';
import { LocalCluster } from './local-cluster.js';
import type { ClusterParams } from './params.js';
import type { RedisLoadInput, RedisPrefillInput } from './redis-load-task.js';

/** One run: each load process's result; the run's figure is the sum of their ops/s. */
export interface ThroughputRun {
  readonly workers: readonly LoadResult[];
  readonly opsPerSec: number;
  /**
   * CPU µs the server side used in the timed window: Shoal's node processes
   * (which also run the embedded load loops), or redis-server alone (read
   * from /proc); null when it could not be read.
   */
  readonly serverCpuUs: number | null;
  /** CPU µs of separate load processes in the window (Redis's ioredis clients; 0 for Shoal's embedded load). */
  readonly clientCpuUs: number;
}

const task = new URL('./redis-load-task.js', import.meta.url);

function spec(p: ClusterParams, run: number, worker: number, startAt: number): LoadSpec {
  const { warmupMs, durationMs, concurrency, keys, readFraction, valueBytes } = p.throughput;
  return { startAt, warmupMs, durationMs, concurrency, keys, readFraction, valueBytes, seed: run * 100 + worker };
}

const opsPerSec = (workers: readonly LoadResult[]): number => workers.reduce((sum, w) => sum + w.opsPerSec, 0);
const cpuOf = (workers: readonly LoadResult[]): number => workers.reduce((sum, w) => sum + w.cpuUs, 0);

const budget = (p: ClusterParams): number => p.throughput.startLeadMs + p.throughput.warmupMs + p.throughput.durationMs;

/** Fresh cluster; every node writes its share of the keys, then all run the load at the same moment. */
export async function measureShoalThroughput(p: ClusterParams, run: number): Promise<ThroughputRun> {
  const cluster = await LocalCluster.start({ size: p.nodes, idPrefix: `t${run}`, readyTimeoutMs: p.readyTimeoutMs });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const { keys, valueBytes, concurrency } = p.throughput;
    await Promise.all(
      cluster.nodes.map((n, i) =>
        n.request(
          { type: 'prefill', spec: { keys, valueBytes, concurrency }, shard: i, shards: cluster.nodes.length },
          60_000,
        ),
      ),
    );
    const startAt = Date.now() + Math.min(300, p.throughput.startLeadMs);
    const results = await Promise.all(
      cluster.nodes.map((n, i) =>
        n.request<LoadResult>({ type: 'load', spec: spec(p, run, i, startAt) }, budget(p) + 30_000),
      ),
    );
    return { workers: results, opsPerSec: opsPerSec(results), serverCpuUs: cpuOf(results), clientCpuUs: 0 };
  } finally {
    await cluster.stop();
  }
}

/** Prefills the server, then as many ioredis processes as Shoal has nodes run the same load at the same moment. */
export async function measureRedisThroughput(
  p: ClusterParams,
  server: Pick<RedisServer, 'port' | 'pid'>,
  run: number,
): Promise<ThroughputRun> {
  const port = server.port;
  const { keys, valueBytes, concurrency } = p.throughput;
  await runTask<RedisPrefillInput, { written: number }>({
    module: task,
    exportName: 'redisPrefill',
    input: { port, spec: { keys, valueBytes, concurrency } },
    timeoutMs: 60_000,
  });
  // the lead covers forking and connecting the load processes, so they start together
  const startAt = Date.now() + p.throughput.startLeadMs;
  const windowStart = startAt + p.throughput.warmupMs;
  const serverCpu = cpuInWindow([server.pid], windowStart, windowStart + p.throughput.durationMs);
  const results = await Promise.all(
    Array.from({ length: p.nodes }, (_, i) =>
      runTask<RedisLoadInput, LoadResult>({
        module: task,
        exportName: 'redisLoad',
        input: { port, spec: spec(p, run, i, startAt) },
        timeoutMs: budget(p) + 30_000,
      }),
    ),
  );
  return {
    workers: results,
    opsPerSec: opsPerSec(results),
    serverCpuUs: await serverCpu,
    clientCpuUs: cpuOf(results),
  };
}
