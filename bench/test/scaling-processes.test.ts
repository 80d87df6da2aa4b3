import t from 'tap';
import { runTask } from '../src/runner/child-runner.js';
import type { LoadResult } from '../src/scenarios/cluster/load.js';
import { LocalCluster } from '../src/scenarios/cluster/local-cluster.js';
import type { RebalanceSnapshot, StoreSnapshot } from '../src/scenarios/cluster/worker-protocol.js';
import type { HttpLoadInput } from '../src/scenarios/scaling/http-load-task.js';
import { moved, settled } from '../src/scenarios/scaling/rebalance.js';

const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
};

t.test('scaling: a node joins a filled 2-node cluster, takes its share, and serves HTTP load', async (t) => {
  const cluster = await LocalCluster.start({ size: 2, idPrefix: 'j', readyTimeoutMs: 20_000 });
  t.teardown(() => cluster.stop());
  await cluster.waitUntil(() => cluster.converged(), 20_000, 'convergence');
  const spec = { keys: 600, valueBytes: 50, concurrency: 8 };
  await Promise.all(cluster.nodes.map((n, i) => n.request({ type: 'prefill', spec, shard: i, shards: 2 }, 30_000)));
  const rebalance = () =>
    Promise.all(cluster.nodes.map((n) => n.request<RebalanceSnapshot>({ type: 'rebalance' }, 10_000)));
  const stores = () => Promise.all(cluster.nodes.map((n) => n.request<StoreSnapshot>({ type: 'store' }, 10_000)));
  await eventually('2 nodes settled', async () => settled(await rebalance()));
  const before = await stores();
  t.same(
    before.map((s) => s.entries),
    [600, 600],
    'two nodes with two copies each hold every key',
  );

  const third = await cluster.join(2);
  t.equal(third.nodeId, 'j-2');
  await eventually('3 nodes settled', async () => settled(await rebalance()));
  const after = await stores();
  const m = moved(before, after);
  t.equal(after[2]?.entries, m.keys, 'every moved key landed on the newcomer');
  t.ok(m.keys > 600 / 3 && m.keys < 600, `${m.keys} of 1200 copies moved (ideal 400)`);
  t.ok(m.wire > 0 && m.bytes > 0);

  const load = await runTask<HttpLoadInput, LoadResult>({
    module: new URL('../src/scenarios/scaling/http-load-task.js', import.meta.url),
    exportName: 'httpLoad',
    input: {
      address: third.address,
      spec: { ...spec, startAt: Date.now(), warmupMs: 50, durationMs: 400, readFraction: 0.9, seed: 3, bucketMs: 100 },
    },
    timeoutMs: 30_000,
  });
  t.equal(load.errors, 0, load.firstError ?? '');
  t.ok(load.gets > 0 && load.sets > 0, `${load.gets} gets, ${load.sets} sets over HTTP`);
  t.ok(load.cpuUs > 0, 'the load process measured its CPU');
  t.ok(load.buckets.length >= 4, `${load.buckets.length} buckets`);
});
