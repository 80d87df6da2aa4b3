import t from 'tap';
import type { DashboardSummary, NodeSummary } from '../../src/server/node-summary.js';
import { eventually, startCluster } from '../cluster/helpers.js';

t.test(
  'GET /v1/dashboard gathers every member, the table, and topics with group lag; a dead member stays listed',
  async (t) => {
    const nodes = await startCluster(t, 3);
    const [a, b, c] = nodes;
    if (a === undefined || b === undefined || c === undefined) return;
    for (let i = 0; i < 30; i++) await a.cache.set(`d${i}`, i);
    for (let i = 0; i < 30; i++) await b.cache.get(`d${i}`);
    await a.log.createTopic('orders', { partitions: 2 });
    for (let i = 0; i < 6; i++) await a.log.append('orders', { i }, { key: `k${i}` });
    // a group whose handler never finishes: every delivered message stays unacked, so the lag stays up
    const hold = new Promise(() => {});
    const consumer = b.log.consume('orders', { group: 'billing', from: 'earliest', concurrency: 2 }, () => hold);
    t.teardown(() => consumer.close());
    const dashboard = async () => (await (await fetch(`http://${a.address}/v1/dashboard`)).json()) as DashboardSummary;
    await eventually(t, 'the billing group shows on the dashboard', async () =>
      (await dashboard()).topics.some((x) => x.groups.some((g) => g.group === 'billing')),
    );
    const d = await dashboard();
    t.equal(d.self, a.id);
    t.same(
      d.nodes.map((n) => [n.id, n.state, n.summary?.id]),
      [
        ['n0', 'alive', 'n0'],
        ['n1', 'alive', 'n1'],
        ['n2', 'alive', 'n2'],
      ],
    );
    t.equal(d.cluster.owners.length, 271);
    const entries = d.nodes.reduce((s, n) => s + (n.summary?.memory.entries ?? 0), 0);
    t.ok(entries >= 60, `the 30 keys are held twice across the nodes (plus topic metadata): ${entries}`);
    const reads = d.nodes.reduce((s, n) => s + (n.summary?.ops.hits ?? 0), 0);
    t.ok(reads >= 30, 'the reads are counted as hits somewhere');
    const orders = d.topics.find((x) => x.topic === 'orders');
    t.equal(orders?.messages, 6, 'every message counted once, from the partition leaders');
    t.equal(orders?.groups.find((g) => g.group === 'billing')?.lag, 6, 'nothing acked: lag is every message');

    const own = (await (await fetch(`http://${b.address}/v1/node`)).json()) as NodeSummary;
    t.match(own, {
      id: 'n1',
      memory: { maxBytes: 256 * 1024 * 1024 },
      gossip: { healthScore: Number, probeFailures: Number, suspicions: Number },
      partitions: { primary: Number, replica: Number },
    });
    t.ok(own.hitRatio >= 0 && own.hitRatio <= 1);
    await eventually(t, 'the node has sampled its ops/s', async () => {
      const rates = ((await (await fetch(`http://${b.address}/v1/node`)).json()) as NodeSummary).opsPerSecond;
      return rates !== undefined && rates.intervalMs === 1000 && rates.values.length >= 1;
    });

    await c.shutdown();
    await eventually(t, 'the stopped member is listed dead, without a summary', async () => {
      const n2 = (await dashboard()).nodes.find((n) => n.id === 'n2');
      return n2?.state === 'dead' && n2.summary === undefined;
    });
  },
);
