import { createServer } from 'node:net';
import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import { createNode } from '../../src/index.js';
import { converged, eventually, startCluster } from './helpers.js';

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test(
  'Split brain: below minClusterSize a node refuses writes with SHOAL_CLUSTER_TOO_SMALL, and serves again once healed',
  async (t) => {
    const nodes = await startCluster(t, 3, { minClusterSize: 2, requestTimeoutMs: 1500 });
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    await a.cache.set('before', 1);
    await b.shutdown();
    await c.shutdown();
    await eventually(t, 'a sees itself alone', () => a.members().filter((m) => m.state === 'alive').length === 1);
    const err = await a.cache.set('during', 1).catch((e: unknown) => e);
    t.ok(isShoalError(err, 'SHOAL_CLUSTER_TOO_SMALL'), `the write is refused (${String((err as Error).message)})`);
    t.equal(await a.cache.get('before'), 1, 'reads are still served');
    const d = await createNode({
      port: 0,
      nodeId: 'n3',
      seeds: [a.address],
      membership: 'local',
      antiEntropyIntervalMs: 0,
      minClusterSize: 2,
    });
    t.teardown(() => d.shutdown());
    await converged(t, [a, d]);
    t.equal(await a.cache.set('after', 2), true, 'writes are accepted again');
  },
);

t.test(
  'Split brain: two clusters that formed apart merge by version when they meet, losing no acknowledged write',
  async (t) => {
    const port = await freePort();
    // side Y starts first, pointing at a seed that does not exist yet: it runs alone and keeps retrying
    const y = await createNode({
      port: 0,
      nodeId: 'y0',
      seeds: [`127.0.0.1:${port}`],
      membership: 'local',
      antiEntropyIntervalMs: 0,
    });
    t.teardown(() => y.shutdown());
    for (let i = 0; i < 200; i++) await y.cache.set(`y:${i}`, i);
    await y.cache.set('shared', 'from-y-older');
    const x0 = await createNode({ port, nodeId: 'x0', membership: 'local', antiEntropyIntervalMs: 0 });
    t.teardown(() => x0.shutdown());
    // x1 joins x0 fast; y0 may meet x0 at any moment from here on
    const x1 = await createNode({
      port: 0,
      nodeId: 'x1',
      seeds: [x0.address],
      membership: 'local',
      antiEntropyIntervalMs: 0,
    });
    t.teardown(() => x1.shutdown());
    for (let i = 0; i < 200; i++) await x0.cache.set(`x:${i}`, i);
    await x1.cache.set('shared', 'from-x-newer');
    const all = [x0, x1, y];
    await converged(t, all, 20_000);
    await eventually(
      t,
      'rebalancing and repair settle',
      async () => {
        if (!all.every((n) => n.rebalanceStatus().syncing === 0 && n.rebalanceStatus().handingOff === 0)) return false;
        return all.reduce((s, n) => s + n.localCache.size, 0) === 2 * 401;
      },
      20_000,
    );
    let missing = 0;
    for (const node of all) {
      for (let i = 0; i < 200; i++) {
        if ((await node.cache.get(`x:${i}`)) !== i) missing++;
        if ((await node.cache.get(`y:${i}`)) !== i) missing++;
      }
    }
    t.equal(missing, 0, 'every write of both sides reads back from every node');
    for (const node of all) t.equal(await node.cache.get('shared'), 'from-x-newer', 'the newer write wins everywhere');
  },
);
