import t from 'tap';
import { createNode } from '../../src/index.js';
import { type ReadinessSource, readinessOf } from '../../src/server/readiness.js';
import { eventually, startCluster } from '../cluster/helpers.js';

/** A node's observable state, as readiness reads it. */
const source = (over: {
  seeds?: string[];
  states?: Record<string, string>;
  version?: number;
  handingOff?: number;
  syncing?: number;
}): ReadinessSource => ({
  id: 'a',
  options: { seeds: over.seeds ?? [] },
  members: () => Object.entries(over.states ?? { a: 'alive' }).map(([id, state]) => ({ id, state })),
  partitionTable: () => ({ version: over.version ?? 1 }),
  rebalanceStatus: () => ({ syncing: over.syncing ?? 0, handingOff: over.handingOff ?? 0 }),
});

t.test('Readiness: each reason a node is not ready, and ready while syncing partitions in', async (t) => {
  t.match(readinessOf(undefined), { ready: false, reason: 'starting' });
  t.match(readinessOf(source({ version: 0 })), { ready: false, reason: 'joining' }, 'no table yet');
  t.match(
    readinessOf(source({ seeds: ['10.0.0.1:7400'] })),
    { ready: false, reason: 'joining' },
    'seeds given, nobody met',
  );
  t.match(readinessOf(source({ states: { a: 'left', b: 'alive' } })), { ready: false, reason: 'leaving' });
  t.match(readinessOf(source({ handingOff: 3 })), { ready: false, reason: 'migrating-away', handingOff: 3 });
  t.match(readinessOf(source({ syncing: 5 })), { ready: true, syncing: 5 }, 'a node still pulling partitions serves');
  t.match(readinessOf(source({ seeds: ['b:1'], states: { a: 'alive', b: 'suspect' } })), { ready: true, members: 2 });
});

t.test('GET /ready: 200 on a started node, 503 SHOAL_NODE_NOT_READY once it leaves', async (t) => {
  const [a, b] = await startCluster(t, 2);
  if (a === undefined || b === undefined) return;
  const res = await fetch(`http://${b.address}/ready`);
  t.equal(res.status, 200);
  t.match(await res.json(), { ready: true, members: 2 });
  const leaving = b.close(10_000);
  // once the leave is announced the node must never answer ready (it stays 'leaving' after it stops, too)
  await eventually(t, 'the leaving node reports itself leaving', () => readinessOf(b).reason === 'leaving');
  const during = await fetch(`http://${b.address}/ready`, { signal: AbortSignal.timeout(2000) }).then(
    async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; details?: { reason?: string } } }),
    () => undefined, // already stopped: also not ready
  );
  if (during !== undefined) {
    t.equal(during.status, 503, 'a leaving node answers 503');
    t.match(during.body, { code: 'SHOAL_NODE_NOT_READY', details: { reason: /^(leaving|migrating-away)$/ } });
  }
  await leaving;
});

t.test('GET /metrics: gossip health and ops counters are exported and move when a peer dies', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, , c] = nodes;
  if (a === undefined || c === undefined) return;
  const scrape = async () => (await fetch(`http://${a.address}/metrics`)).text();
  const value = (text: string, line: RegExp) =>
    text
      .split('\n')
      .filter((l) => line.test(l))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  for (let i = 0; i < 20; i++) await a.cache.set(`g${i}`, i);
  const before = await scrape();
  for (const name of [
    'shoal_gossip_probe_failures_total',
    'shoal_gossip_suspicions_total',
    'shoal_gossip_health_score',
    'shoal_ops_total',
    'shoal_op_duration_seconds',
    'shoal_members',
    'shoal_cache_evictions_total',
    'shoal_cache_expirations_total',
    'shoal_log_end_offset',
    'shoal_log_group_lag',
    'shoal_log_group_redeliveries',
    'shoal_log_group_dead_letters',
  ]) {
    t.match(before, new RegExp(`# TYPE ${name} `), `${name} is exported`);
  }
  t.equal(value(before, /^shoal_ops_total\{.*op="set".*result="ok"/), 20, 'every set counted once');
  await c.shutdown();
  await eventually(
    t,
    'a counts failed probes and suspicions of the stopped node, and sees it dead',
    async () => {
      const text = await scrape();
      return (
        value(text, /^shoal_gossip_probe_failures_total\{/) >= 1 &&
        value(text, /^shoal_gossip_suspicions_total\{/) >= 1 &&
        value(text, /^shoal_members\{.*state="dead"/) === 1
      );
    },
    20_000,
  );
});

t.test('GET /openapi.json lists the routes with their schemas', async (t) => {
  const node = await createNode({ port: 0, membership: 'local' });
  t.teardown(() => node.shutdown());
  const res = await fetch(`http://${node.address}/openapi.json`);
  t.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  t.match(doc.openapi, /^3\./);
  const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
  );
  for (const route of [
    'GET /v1/keys/{key}',
    'PUT /v1/keys/{key}',
    'DELETE /v1/keys/{key}',
    'POST /v1/topics/{topic}/messages',
    'GET /v1/topics/{topic}/partitions/{partition}/messages',
    'GET /v1/topics/{topic}/groups/{group}/lag',
    'GET /v1/cluster',
    'GET /v1/stats',
    'GET /v1/node',
    'GET /v1/dashboard',
    'POST /v1/cluster/leave',
    'POST /v1/counters/{key}/incr',
    'PUT /v1/hashes/{key}',
    'GET /v1/hashes/{key}/fields/{field}',
    'POST /v1/lists/{key}/push',
    'GET /v1/lists/{key}',
    'GET /health',
    'GET /ready',
    'GET /metrics',
  ]) {
    t.ok(routes.includes(route), `${route} is documented`);
  }
  t.notOk(routes.includes('GET /openapi.json'), 'the document does not list itself');
  const put = doc.paths['/v1/keys/{key}']?.put as { parameters?: { name: string; in: string }[] } | undefined;
  t.ok(
    put?.parameters?.some((p) => p.in === 'query' && p.name === 'ttl'),
    'query parameters come from the route schema',
  );
});
