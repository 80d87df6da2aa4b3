import t from 'tap';
import { runTask } from '../src/runner/child-runner.js';
import type { LoadResult } from '../src/scenarios/cluster/load.js';
import { LocalCluster } from '../src/scenarios/cluster/local-cluster.js';
import type { RebalanceSnapshot, StoreSnapshot } from '../src/scenarios/cluster/worker-protocol.js';
import type { ClientLoadInput } from '../src/scenarios/scaling/client-load-task.js';
import { moved, settled } from '../src/scenarios/scaling/rebalance.js';

const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
};

t.test(
  'scaling: a node joins a filled 2-node cluster, takes its share, and serves load through @shoal/client',
  async (t) => {
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

    const viaClient = await runTask<ClientLoadInput, LoadResult>({
      module: new URL('../src/scenarios/scaling/client-load-task.js', import.meta.url),
      exportName: 'shoalClientLoad',
      input: {
        address: cluster.nodes[0]?.address ?? '',
        spec: { ...spec, startAt: Date.now(), warmupMs: 50, durationMs: 400, readFraction: 0.9, seed: 4 },
      },
      timeoutMs: 30_000,
    });
    t.equal(viaClient.errors, 0, viaClient.firstError ?? '');
    t.ok(
      viaClient.gets > 0 && viaClient.sets > 0,
      `${viaClient.gets} gets, ${viaClient.sets} sets through @shoal/client`,
    );
  },
);
