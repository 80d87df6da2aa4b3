/** The client against in-process nodes over real sockets: API parity with node.cache, errors, options, auth. */
import { createNode, type ShoalNode } from '@shoal/node';
import t from 'tap';
import { type CacheApi, connect, isShoalError } from '../src/index.js';
import { cluster, open } from './in-process.js';

// a function written once against the shared interface
async function roundTrip(cache: CacheApi): Promise<unknown[]> {
  await cache.set('rt:v', { n: 1 });
  await cache.hset('rt:h', { a: 1, b: 2 });
  await cache.rpush('rt:l', 'x', 'y');
  return [
    await cache.get('rt:v'),
    await cache.hgetall('rt:h'),
    await cache.lrange('rt:l', 0, -1),
    await cache.incr('rt:c', 5),
  ];
}

t.test('Client cache answers exactly as node.cache does, through the shared CacheApi', async (t) => {
  const [node] = await cluster(t, 1);
  const client = await open(t, node as ShoalNode);
  const viaClient = await roundTrip(client.cache);
  await (node as ShoalNode).cache.delete('rt:v');
  await (node as ShoalNode).cache.delete('rt:h');
  await (node as ShoalNode).cache.delete('rt:l');
  await (node as ShoalNode).cache.delete('rt:c');
  const embedded = await roundTrip((node as ShoalNode).cache);
  t.same(viaClient, embedded);
  t.same(viaClient, [{ n: 1 }, { a: 1, b: 2 }, ['x', 'y'], 5]);
  t.equal(await client.cache.get('missing'), undefined);
  t.equal(await client.cache.set('nx', 1, { nx: true }), true);
  t.equal(await client.cache.set('nx', 2, { nx: true }), false);
  t.equal(await client.cache.get('nx'), 1);
  t.equal(await client.cache.set('ttl', 'v', { ttl: '30s' }), true);
  const ttl = await client.cache.ttl('ttl');
  t.ok(ttl > 25_000 && ttl <= 30_000, `ttl ${ttl}`);
  t.equal(await client.cache.type('rt:h'), 'hash');
  t.same(await client.cache.mget(['nx', 'rt:h', 'missing']), [1, undefined, undefined]);
  await client.cache.mset({ m1: 1, m2: 2 });
  t.same(await client.cache.mget(['m1', 'm2']), [1, 2]);
  const keys: string[] = [];
  let cursor = 0;
  do {
    const page = await client.cache.scan({ cursor, match: 'm*' });
    keys.push(...page.keys);
    cursor = page.cursor;
  } while (cursor !== 0);
  t.same(keys.sort(), ['m1', 'm2']);
});

t.test('Client cache errors are the node typed errors', async (t) => {
  const [node] = await cluster(t, 1);
  const client = await open(t, node as ShoalNode);
  await client.cache.hset('h', 'f', 1);
  const wrongType = await client.cache.get('h').catch((e: unknown) => e);
  t.ok(isShoalError(wrongType, 'SHOAL_STORE_WRONG_TYPE'), String(wrongType));
  const embedded = await (node as ShoalNode).cache.get('h').catch((e: unknown) => e);
  t.equal((wrongType as Error).message, (embedded as Error).message);
  t.ok(isShoalError(await client.cache.incr('h').catch((e: unknown) => e), 'SHOAL_STORE_WRONG_TYPE'));
  t.ok(isShoalError(await client.cache.get('').catch((e: unknown) => e), 'SHOAL_KEY_INVALID'));
  t.ok(isShoalError(await client.cache.set('k', 1, { ttl: 'soon' }).catch((e: unknown) => e)));
});

t.test('Client rejects bad options naming the option', async (t) => {
  for (const [options, option] of [
    [{ nodes: [] }, 'nodes'],
    [{ nodes: ['http://x:1'] }, 'nodes'],
    [{ nodes: ['ws://127.0.0.1:1'], timeout: 0 }, 'timeout'],
    [{ nodes: ['ws://127.0.0.1:1'], nearCache: true }, 'nearCache'],
  ] as const) {
    const err = await connect(options as never).catch((e: unknown) => e);
    t.ok(isShoalError(err, 'SHOAL_CONFIG_INVALID'), String(err));
    t.equal((err as { details: { option: string } }).details.option, option);
  }
});

t.test('Client with a wrong or missing token is refused with SHOAL_AUTH_FAILED; the right one works', async (t) => {
  const [node] = await cluster(t, 1, { token: 's3cret-token' });
  const url = `ws://${(node as ShoalNode).address}`;
  const started = Date.now();
  const missing = await connect({ nodes: [url], timeout: 5000 }).catch((e: unknown) => e);
  t.ok(isShoalError(missing, 'SHOAL_AUTH_FAILED'), String(missing));
  const wrong = await connect({ nodes: [url], token: 'nope', timeout: 5000 }).catch((e: unknown) => e);
  t.ok(isShoalError(wrong, 'SHOAL_AUTH_FAILED'), String(wrong));
  t.ok(Date.now() - started < 4000, 'refusal is immediate, not a timeout');
  const client = await open(t, node as ShoalNode, { token: 's3cret-token' });
  await client.cache.set('a', 1);
  t.equal(await client.cache.get('a'), 1);
});

t.test('Client call honours its AbortSignal and its timeout', async (t) => {
  const [node] = await cluster(t, 1);
  const client = await open(t, node as ShoalNode);
  const controller = new AbortController();
  controller.abort(new Error('caller gave up'));
  const aborted = await client.cache.get('k', { signal: controller.signal }).catch((e: unknown) => e);
  t.ok(isShoalError(aborted, 'SHOAL_CLIENT_ABORTED'), String(aborted));
  // a consumer's long poll at a topic that does not exist fails, but a get with a 1 ms budget against a
  // stopped node must end with a timeout, not hang: stop the node, then call
  await (node as ShoalNode).shutdown();
  const started = Date.now();
  const late = await client.cache.get('k', { timeout: 300 }).catch((e: unknown) => e);
  t.ok(isShoalError(late, 'SHOAL_REQUEST_TIMEOUT'), String(late));
  t.ok(Date.now() - started < 1500, `ended after ${Date.now() - started} ms`);
});

t.test('Client auto-pipelines the calls of one tick into one frame', async (t) => {
  const [node] = await cluster(t, 1);
  const client = await open(t, node as ShoalNode);
  await client.cache.set('warm', 1);
  const before = client.stats();
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.cache.set(`p:${i}`, i)));
  const after = client.stats();
  t.equal(after.messagesOut - before.messagesOut, 200);
  t.ok(after.framesOut - before.framesOut <= 2, `${after.framesOut - before.framesOut} frames for 200 calls`);
  t.same(await client.cache.mget(['p:0', 'p:199']), [0, 199]);
});

t.test('Client bounds in-flight calls: the rest wait, none is lost', async (t) => {
  const [node] = await cluster(t, 1);
  const client = await open(t, node as ShoalNode, { maxInFlight: 4 });
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) => client.cache.incr('counter', 1).then(() => i)),
  );
  t.equal(results.length, 100);
  t.equal(await client.cache.get('counter'), 100);
  const refused = await connect({ nodes: [`ws://${(node as ShoalNode).address}`], maxInFlight: 1, maxQueued: 0 });
  t.teardown(() => refused.close());
  const outcomes = await Promise.allSettled(
    Array.from({ length: 10 }, () => refused.cache.get('counter', { timeout: 200 })),
  );
  t.ok(
    outcomes.some((o) => o.status === 'fulfilled'),
    'some calls get through',
  );
});

t.test('Client learns a newer table by push and routes to the new primary', async (t) => {
  const nodes = await cluster(t, 1);
  const client = await open(t, nodes[0] as ShoalNode);
  const tables: number[] = [];
  client.on('topology', (info) => tables.push(info.id));
  const first = client.tableId;
  nodes.push(
    await createNode({
      port: 0,
      nodeId: 'n1',
      seeds: [(nodes[0] as ShoalNode).address],
      membership: 'local',
      antiEntropyIntervalMs: 0,
    }),
  );
  const deadline = Date.now() + 15_000;
  while (client.tableId === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.not(client.tableId, first, 'a new table pushed');
  t.ok(tables.length > 0);
  while (!client.connectedNodes().includes('n1') && Date.now() < deadline) {
    await client.cache.set(`spread:${Date.now()}`, 1);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(client.connectedNodes().includes('n1'), 'connected to the joined node');
});

t.test('Client close ends pending calls with SHOAL_CLIENT_CLOSED and refuses new ones', async (t) => {
  const [node] = await cluster(t, 1);
  const client = await open(t, node as ShoalNode);
  const pending = client.cache.get('x');
  await client.close();
  const outcome = await pending.then(
    () => 'resolved',
    (e: unknown) => e,
  );
  t.ok(outcome === 'resolved' || isShoalError(outcome, 'SHOAL_CLIENT_CLOSED'), String(outcome));
  t.ok(isShoalError(await client.cache.get('x').catch((e: unknown) => e), 'SHOAL_CLIENT_CLOSED'));
  await client.close();
});

t.test('Client read: replica gets are served from a replica copy', async (t) => {
  const nodes = await cluster(t, 2);
  const client = await open(t, nodes[0] as ShoalNode);
  const deadline = Date.now() + 15_000;
  while (client.connectedNodes().length < 2 && Date.now() < deadline) {
    await client.cache.get('probe');
    await new Promise((r) => setTimeout(r, 20));
  }
  const keys = Array.from({ length: 20 }, (_, i) => `replica:${i}`);
  await client.cache.mset(Object.fromEntries(keys.map((k, i) => [k, i])), { consistency: 'all' });
  const before = await Promise.all(['n0', 'n1'].map((id) => client.nodeStats(id)));
  t.same(await client.cache.mget(keys, { read: 'replica' }), [...keys.keys()]);
  const after = await Promise.all(['n0', 'n1'].map((id) => client.nodeStats(id)));
  const served = after.reduce((sum, s, i) => sum + (s.replicaReads ?? 0) - (before[i]?.replicaReads ?? 0), 0);
  t.equal(served, 20, 'every read served from an owner copy');
  const primaryOps = after.reduce((sum, s, i) => sum + (s.primaryOps ?? 0) - (before[i]?.primaryOps ?? 0), 0);
  t.equal(primaryOps, 0, 'no read went through the primary path');
  await client.cache.hset('replica:h', 'f', 1);
  const err = await client.cache.get('replica:h', { read: 'replica' }).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_STORE_WRONG_TYPE'), 'the same typed error as a primary read');
});
