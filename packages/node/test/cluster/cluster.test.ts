import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import { createNode } from '../../src/index.js';
import { converged, eventually, startCluster } from './helpers.js';

t.test('Cluster of 3 in one process: writes on any node read back from every node, with 2 copies each', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
  t.equal(a.partitionTable().owners.length, 271);
  t.ok(a.partitionTable().owners.every((o) => o.length === 2 && o[0] !== o[1]));
  for (let i = 0; i < 300; i++) await nodes[i % 3]?.cache.set(`key:${i}`, { i });
  for (let i = 0; i < 300; i++) {
    for (const n of nodes) if ((await n.cache.get(`key:${i}`)) === undefined) t.fail(`key:${i} missing via ${n.id}`);
  }
  const copies = nodes.reduce((sum, n) => sum + n.localCache.size, 0);
  t.equal(copies, 600, 'every key is held by exactly 2 nodes');
  t.ok(
    nodes.every((n) => n.localCache.size > 100),
    'keys are spread over all nodes',
  );
  t.equal(await b.cache.incr('counter', 5), 5);
  t.equal(await c.cache.incr('counter'), 6);
  await a.cache.hset('h', { f: 1 });
  t.same(await c.cache.hgetall('h'), { f: 1 });
  await c.cache.rpush('l', 1, 2, 3);
  t.same(await a.cache.lrange('l', 0, -1), [1, 2, 3]);
  t.equal(await b.cache.delete('key:1'), true);
  t.equal(await a.cache.get('key:1'), undefined);
  const err = await a.cache.get('h').catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_STORE_WRONG_TYPE'), 'typed errors cross the wire');
  t.same(await a.cache.mget(['key:2', 'nope', 'h']), [{ i: 2 }, undefined, undefined]);
  const seen = new Set<string>();
  let cursor = 0;
  let pages = 0;
  do {
    const page = await b.cache.scan({ cursor, prefix: 'key:', count: 50 });
    for (const k of page.keys) seen.add(k);
    cursor = page.cursor;
  } while (cursor !== 0 && ++pages < 1000);
  t.equal(seen.size, 299, 'cluster scan lists every key once');
  const stats = await a.stats();
  t.equal(stats.members, 3);
  t.equal(stats.cluster.entries, 2 * (299 + 3));
});

t.test('Cluster node join: partitions rebalance to the new node and nothing is lost', async (t) => {
  const nodes = await startCluster(t, 2);
  for (let i = 0; i < 500; i++) await nodes[0]?.cache.set(`k${i}`, i);
  const ends: unknown[] = [];
  const d = await createNode({
    port: 0,
    nodeId: 'n9',
    seeds: [nodes[1]?.address as string],
    membership: 'local',
    antiEntropyIntervalMs: 0,
  });
  t.teardown(() => d.shutdown());
  d.on('rebalance-end', (detail) => ends.push(detail));
  const all = [...nodes, d];
  await converged(t, all);
  const copies = () => all.reduce((s, n) => s + n.localCache.size, 0);
  await eventually(
    t,
    'rebalancing settles with exactly 2 copies of each key',
    () =>
      all.every((n) => n.rebalanceStatus().syncing === 0 && n.rebalanceStatus().handingOff === 0) && copies() === 1000,
  );
  t.ok(d.localCache.size > 100, `the new node holds ${d.localCache.size} keys`);
  for (let i = 0; i < 500; i++) if ((await d.cache.get(`k${i}`)) !== i) t.fail(`k${i} lost`);
  t.ok(ends.length > 0, 'rebalance-end was emitted');
});

t.test('Cluster graceful close hands partitions off before leaving', async (t) => {
  const nodes = await startCluster(t, 3);
  for (let i = 0; i < 500; i++) await nodes[0]?.cache.set(`k${i}`, i);
  const leaving = nodes[2];
  const left: string[] = [];
  nodes[0]?.on('member-leave', (m) => left.push(m.id));
  await leaving?.close();
  const rest = nodes.slice(0, 2);
  await eventually(t, 'others see the leave', () => left.includes('n2'));
  await eventually(
    t,
    'rebalancing settles with 2 copies of every key on the remaining nodes',
    () =>
      rest.every((n) => n.rebalanceStatus().syncing === 0) && rest.reduce((s, n) => s + n.localCache.size, 0) === 1000,
  );
  for (let i = 0; i < 500; i++) if ((await nodes[1]?.cache.get(`k${i}`)) !== i) t.fail(`k${i} lost`);
  t.ok(isShoalError(await leaving?.cache.get('k1').catch((e: unknown) => e), 'SHOAL_NODE_CLOSED'));
});

t.test('Cluster refuses a node with another partitionCount', async (t) => {
  const nodes = await startCluster(t, 1);
  const err = await createNode({
    port: 0,
    nodeId: 'odd',
    seeds: [nodes[0]?.address as string],
    membership: 'local',
    partitionCount: 97,
  }).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_CLUSTER_INCOMPATIBLE'));
});

t.test('Cluster quorum read returns the newest copy and repairs the stale one', async (t) => {
  const nodes = await startCluster(t, 3);
  const a = nodes[0] as (typeof nodes)[0];
  await a.cache.set('rr', 'v1');
  const partition = a
    .partitionTable()
    .owners.findIndex(
      (_, p) =>
        p === (a as unknown as { partitioner: { partitionOf(k: string): number } }).partitioner.partitionOf('rr'),
    );
  const [primaryId, replicaId] = a.partitionTable().owners[partition] as [string, string];
  const primary = nodes.find((n) => n.id === primaryId) as (typeof nodes)[0];
  const replica = nodes.find((n) => n.id === replicaId) as (typeof nodes)[0];
  // a newer write that only the replica saw (as if the primary had missed a fan-out)
  replica.localCache.set('rr', 'v2');
  t.equal(await a.cache.get('rr'), 'v1', 'consistency one reads the primary only');
  t.equal(await a.cache.get('rr', { consistency: 'quorum' }), 'v2', 'quorum read sees the newest copy');
  t.equal(primary.localCache.get('rr'), 'v2', 'the stale primary was repaired');
  replica.localCache.delete('rr');
  await a.cache.get('rr', { consistency: 'all' });
  await eventually(t, 'read repair restores the replica', () => replica.localCache.get('rr') === 'v2');
});

t.test('Cluster with a secret admits nodes that know it and keeps others out', async (t) => {
  const nodes = await startCluster(t, 2, { secret: 'correct horse battery' });
  const warnings: string[] = [];
  nodes[0]?.on('warning', (m) => warnings.push(m));
  const intruder = await createNode({
    port: 0,
    nodeId: 'intruder',
    seeds: [nodes[0]?.address as string],
    membership: { ...(await import('../../src/membership/membership-config.js')).localConfig(), joinTimeoutMs: 500 },
    secret: 'wrong secret!',
  });
  t.teardown(() => intruder.shutdown());
  t.same(
    intruder.members().map((m) => m.id),
    ['intruder'],
    'the intruder could not join',
  );
  t.notOk(
    nodes[0]?.members().some((m) => m.id === 'intruder'),
    'the cluster never saw it',
  );
  await nodes[1]?.cache.set('still', 'works');
  t.equal(await nodes[0]?.cache.get('still'), 'works');
});

t.test('Cluster node closes a peer connection sending garbage and keeps serving', async (t) => {
  const { WebSocket } = await import('ws');
  const nodes = await startCluster(t, 2);
  const ws = new WebSocket(`ws://${nodes[0]?.address}/peer`, {
    headers: { 'x-shoal-node-id': 'rogue', 'x-shoal-node-address': '127.0.0.1:1' },
  });
  await new Promise((resolve) => ws.once('open', resolve));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.send(Buffer.from('not msgpack at all'));
  t.equal(await closed, 1007);
  await nodes[1]?.cache.set('after-garbage', 1);
  t.equal(await nodes[0]?.cache.get('after-garbage'), 1);
});

t.test(
  'Cluster forwards a request that reached a non-owner, and answers NOT_OWNER with the table once hops run out',
  async (t) => {
    const { MessageKind } = await import('@shoal/protocol');
    const { PeerTransport } = await import('../../src/transport/peer-transport.js');
    const { systemClock } = await import('../../src/store/clock.js');
    const nodes = await startCluster(t, 3);
    const a = nodes[0] as (typeof nodes)[0];
    // find a key whose owners do not include n0, then send its op straight to n0 as a stale client would
    let key = '';
    for (let i = 0; i < 1000 && key === ''; i++) {
      const candidate = `fwd:${i}`;
      const p = (a as unknown as { partitioner: { partitionOf(k: string): number } }).partitioner.partitionOf(
        candidate,
      );
      if (!a.partitionTable().owners[p]?.includes('n0')) key = candidate;
    }
    t.not(key, '', 'found a key n0 does not own');
    const client = new PeerTransport({
      nodeId: 'probe',
      address: '127.0.0.1:9',
      maxFrameBytes: 1 << 20,
      maxMessagesPerFrame: 1000,
      maxInFlight: 100,
      connectTimeoutMs: 2000,
      maxClockSkewMs: 60_000,
      clock: systemClock,
    });
    t.teardown(() => client.close());
    t.equal(await client.request(a.address, MessageKind.CacheOp, ['set', [key, 'forwarded'], null, 0, 0], 5000), true);
    t.equal(await nodes[1]?.cache.get(key), 'forwarded', 'the forwarded write landed at the owners');
    const err = (await client
      .request(a.address, MessageKind.CacheOp, ['get', [key], null, 0, 3], 5000)
      .catch((e: unknown) => e)) as { code: string; details: { owners: string[]; tableVersion: number } };
    t.equal(err.code, 'SHOAL_CLUSTER_NOT_OWNER');
    t.ok(err.details.owners.length === 2 && !err.details.owners.includes('n0'), 'the error names the owners');
    t.ok(err.details.tableVersion >= 1);
    const bad = await client
      .request(a.address, MessageKind.CacheOp, ['eval', ['x'], null, 0, 0], 5000)
      .catch((e: unknown) => e);
    t.equal((bad as { code: string }).code, 'SHOAL_PROTOCOL_INVALID', 'unknown operations are refused');
  },
);
