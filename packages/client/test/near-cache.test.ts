/**
 * The client's near cache and read-through against real nodes: a near copy is
 * never older than an invalidation the client has received while another
 * client writes concurrently, a dropped connection drops the copies, and
 * getOrSet / tags behave as on an embedded node.
 */
import type { ShoalNode } from '@shoal/node';
import t from 'tap';
import { connect, type ShoalClient } from '../src/index.js';
import { cluster, open } from './in-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every node sees all alive and they hold the same partition table. */
async function formed(nodes: readonly ShoalNode[]): Promise<ShoalNode[]> {
  const owners = (n: ShoalNode) => JSON.stringify(n.partitionTable().owners);
  await until(
    'the cluster forms and agrees on its table',
    () =>
      nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === nodes.length) &&
      nodes.every((n) => owners(n) === owners(nodes[0] as ShoalNode)),
    15_000,
  );
  return [...nodes];
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

t.test(
  'near copies are served locally and never older than an invalidation seen, under concurrent writes',
  async (t) => {
    const nodes = await formed(await cluster(t, 3));
    const reader = await open(t, nodes[0] as ShoalNode, { nearCache: { maxEntries: 1000 } });
    const writer = await open(t, nodes[1] as ShoalNode);
    const near = reader.near;
    if (near === undefined) throw new Error('no near cache');
    await until("subscribed to every node's stream", () => near.subscribedNodes().length === 3);

    await writer.cache.set('basic', 'v1');
    t.equal(await reader.cache.get('basic'), 'v1');
    t.equal(await reader.cache.get('basic'), 'v1');
    t.equal(reader.nearCacheStats()?.hits, 1, 'the second read is a near hit');
    await writer.cache.set('basic', 'v2');
    await until('the invalidation reaches the client', () => !near.cache.holds('basic'));
    t.equal(await reader.cache.get('basic'), 'v2');
    await reader.cache.set('basic', 'v3');
    t.equal(await reader.cache.get('basic'), 'v3', 'a client reads its own write at once');

    const keys = Array.from({ length: 12 }, (_, i) => `load:${i}`);
    const seen = new Map<string, number>();
    near.cache.onInvalidate = (key, version) => {
      if (version !== undefined && version > (seen.get(key) ?? 0)) seen.set(key, version);
    };
    const versions = new Map<string, Map<number, number>>(keys.map((k) => [k, new Map()]));
    const primaryOf = (key: string) => nodes.find((n) => n.id === (nodes[0] as ShoalNode).primaryOf(key));
    let writing = true;
    let checked = 0;
    let violations = 0;
    let acked = 0;
    const deadline = Date.now() + 20_000;
    const writers = keys.map(async (key) => {
      let n = 0;
      while (writing && Date.now() < deadline) {
        await sleep(4);
        n++;
        try {
          await writer.cache.set(key, { n });
        } catch {
          continue;
        }
        acked++;
        const entry = primaryOf(key)?.localCache.entry(key);
        if (entry !== undefined && (entry.value as { n: number }).n === n) versions.get(key)?.set(n, entry.version);
      }
    });
    const readers = keys.map(async (key) => {
      while (writing && Date.now() < deadline) {
        await sleep(1);
        const before = seen.get(key) ?? 0;
        let value: { n: number } | undefined;
        try {
          value = (await reader.cache.get(key)) as { n: number } | undefined;
        } catch {
          continue;
        }
        const version = value === undefined ? undefined : versions.get(key)?.get(value.n);
        if (version === undefined) continue;
        checked++;
        if (version < before) {
          violations++;
          t.fail(`${key}: served n=${value?.n} after an invalidation of version ${before}`);
        }
      }
    });
    await until('near hits under concurrent writes', () => near.stats().hits > 300 && acked > 300, 15_000);
    // the stream of one node drops: the client must drop everything it holds
    const clears = near.stats().clears;
    const victim = nodes[2] as ShoalNode;
    (victim as unknown as { clientEndpoint: { close(): void } }).clientEndpoint.close();
    await until('the near cache is dropped with the stream', () => near.stats().clears > clears);
    writing = false;
    await Promise.all([...writers, ...readers]);
    t.equal(violations, 0, `no stale read in ${checked} checked reads (${near.stats().hits} near hits)`);
    t.ok(checked > 300, `enough reads were checked (${checked})`);
  },
);

t.test('getOrSet through clients: one loader call per key across clients; tags; validation', async (t) => {
  const nodes = await formed(await cluster(t, 3));
  const clients = await Promise.all(nodes.map((n) => open(t, n, { nearCache: { maxEntries: 100 } })));
  let loads = 0;
  const loader = async (key: string) => {
    loads++;
    await sleep(100);
    return `value of ${key}`;
  };
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      (clients[i % 3] as ShoalClient).cache.getOrSet(`gos:${i % 3}`, loader, { ttl: '1m', tags: ['gos'] }),
    ),
  );
  t.equal(loads, 3, 'one loader call per key for 300 concurrent calls from 3 clients');
  t.equal(results[4], 'value of gos:1');
  t.equal(await (clients[2] as ShoalClient).cache.get('gos:1'), 'value of gos:1', 'stored for plain reads');
  t.same(await (clients[0] as ShoalClient).cache.invalidateTag('gos'), { nodes: 3 });
  t.equal(await (clients[1] as ShoalClient).cache.get('gos:1'), undefined, 'the tag invalidated it');
  t.equal(await (nodes[0] as ShoalNode).cache.get('gos:2'), undefined, 'on the nodes too');
  await (clients[0] as ShoalClient).cache.set('tagged', 1, { tags: ['t1'] });
  t.equal(await (clients[1] as ShoalClient).cache.get('tagged'), 1);
  await (clients[2] as ShoalClient).cache.expireTag('t1');
  t.equal(await (clients[1] as ShoalClient).cache.get('tagged'), undefined, 'expired: a plain read misses');
  const stale = await (clients[1] as ShoalClient).cache.getOrSet('grace', () => 'g1', { ttl: 50, grace: '1m' });
  t.equal(stale, 'g1');
  await until('the value goes stale', async () => (await (clients[0] as ShoalClient).cache.get('grace')) === undefined);
  t.equal(
    await (clients[0] as ShoalClient).cache.getOrSet(
      'grace',
      () => {
        throw new Error('down');
      },
      { ttl: 50, grace: '1m' },
    ),
    'g1',
    'a failing loader gets the stale value within grace',
  );
  await t.rejects(
    (clients[0] as ShoalClient).cache.getOrSet('x', () => 1, { ttl: 'soon' }),
    { code: 'SHOAL_ARGUMENT_INVALID' },
  );
  await t.rejects((clients[0] as ShoalClient).cache.invalidateTag(''), { code: 'SHOAL_TAG_INVALID' });
  await t.rejects(connect({ nodes: ['ws://127.0.0.1:1'], nearCache: { maxEntries: 0 } }), {
    code: 'SHOAL_CONFIG_INVALID',
  });
});
