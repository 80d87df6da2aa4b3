/**
 * getOrSet across real nodes: one loader call per key for the whole cluster,
 * stale values within grace when the loader fails or is slow, hard timeouts;
 * and tags (invalidate, expire) and invalidateOn across nodes.
 */
import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { converged, eventually, startCluster } from '../cluster/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loaderCalls = (nodes: readonly ShoalNode[]) => nodes.reduce((sum, n) => sum + n.cache.loaderCalls, 0);

t.test('single flight: 1000 concurrent misses over 3 nodes call each key loader once', async (t) => {
  const nodes = await startCluster(t, 3);
  const keys = ['sf:a', 'sf:b', 'sf:c', 'sf:d', 'sf:e'];
  const database = new Map<string, number>();
  const loader = async (key: string) => {
    database.set(key, (database.get(key) ?? 0) + 1);
    await sleep(100);
    return { key, loadedAt: Date.now() };
  };
  const calls = [];
  for (let i = 0; i < 1000; i++) {
    const key = keys[i % keys.length] as string;
    calls.push((nodes[i % 3] as ShoalNode).cache.getOrSet(key, loader, { ttl: '1m' }));
  }
  const values = (await Promise.all(calls)) as { key: string; loadedAt: number }[];
  for (const key of keys) t.equal(database.get(key), 1, `${key} loaded once`);
  t.equal(loaderCalls(nodes), keys.length, 'one loader call per key across the cluster');
  const byKey = new Map<string, number>();
  let consistent = true;
  for (const v of values) {
    const first = byKey.get(v.key);
    if (first === undefined) byKey.set(v.key, v.loadedAt);
    else if (first !== v.loadedAt) consistent = false;
  }
  t.ok(consistent, 'every caller got the one loaded value');
  t.same(await (nodes[2] as ShoalNode).cache.get('sf:a'), values[0], 'the value is cached for plain reads');
  // a second wave hits the cache: no loader call
  await Promise.all(keys.map((key) => (nodes[1] as ShoalNode).cache.getOrSet(key, loader)));
  t.equal(loaderCalls(nodes), keys.length, 'cached: no more loader calls');
});

t.test('grace: a failing loader serves the stale value; plain get does not', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b] = nodes as [ShoalNode, ShoalNode];
  const loadedAt = Date.now();
  t.equal(await a.cache.getOrSet('g:1', () => 'v1', { ttl: 100, grace: '10s' }), 'v1');
  await eventually(t, 'past the ttl', () => Date.now() > loadedAt + 110);
  t.equal(await b.cache.get('g:1'), undefined, 'stale is not served by get');
  const stale = await b.cache.getOrSet(
    'g:1',
    () => {
      throw new Error('database down');
    },
    { ttl: 100, grace: '10s' },
  );
  t.equal(stale, 'v1', 'the stale value is served when the loader fails');
  await t.rejects(
    b.cache.getOrSet(
      'g:none',
      () => {
        throw new Error('database down');
      },
      { grace: '10s' },
    ),
    /database down/,
    'without a stale value the loader error reaches the caller',
  );
  t.equal(await a.cache.getOrSet('g:1', () => 'v2', { ttl: '1m', grace: '10s' }), 'v2', 'a working loader refreshes');
  t.equal(await b.cache.get('g:1'), 'v2');
  t.equal(
    await a.cache.getOrSet('g:undefined', () => undefined),
    undefined,
    'a loader that finds nothing caches nothing',
  );
  t.equal(await a.cache.has('g:undefined'), false);
});

t.test('soft timeout serves stale and the refresh lands later; hard timeout fails', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a, b] = nodes as [ShoalNode, ShoalNode];
  const loadedAt = Date.now();
  await a.cache.getOrSet('st:1', () => 'old', { ttl: 50, grace: '1m' });
  await eventually(t, 'past the ttl', () => Date.now() > loadedAt + 60);
  const started = Date.now();
  const value = await b.cache.getOrSet(
    'st:1',
    async () => {
      await sleep(600);
      return 'new';
    },
    { ttl: '1m', grace: '1m', timeout: 50 },
  );
  t.equal(value, 'old', 'the stale value after the soft timeout');
  t.ok(Date.now() - started < 500, `returned before the loader finished (${Date.now() - started} ms)`);
  await eventually(t, 'the background refresh is stored', async () => (await a.cache.get('st:1')) === 'new', 5000);
  await t.rejects(
    a.cache.getOrSet(
      'st:2',
      async () => {
        await sleep(500);
        return 'late';
      },
      { hardTimeout: 50 },
    ),
    { code: 'SHOAL_LOADER_TIMEOUT' },
  );
  await eventually(t, 'the late value still lands', async () => (await b.cache.get('st:2')) === 'late', 5000);
});

t.test('a waiter on another node learns of the lease holder failure', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b] = nodes as [ShoalNode, ShoalNode];
  const holder = a.cache.getOrSet('fail:1', async () => {
    await sleep(200);
    throw new Error('boom');
  });
  const leases = () => nodes.reduce((sum, n) => sum + n.invalidationStats().loadLeases, 0);
  await eventually(t, 'the holder has the lease', () => leases() === 1);
  const waiter = b.cache.getOrSet('fail:1', () => 'never called');
  await t.rejects(holder, /boom/);
  await t.rejects(waiter, { code: 'SHOAL_LOADER_FAILED' });
  t.equal(b.cache.loaderCalls, 0, 'the waiter did not run its loader');
});

t.test('getOrSet validates its arguments', async (t) => {
  const nodes = await startCluster(t, 1);
  const cache = (nodes[0] as ShoalNode).cache;
  t.throws(() => cache.getOrSet('k', 'nope' as never), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.throws(() => cache.getOrSet('k', () => 1, { ttl: 'soon' }), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.throws(() => cache.getOrSet('k', () => 1, { tags: [''] }), { code: 'SHOAL_TAG_INVALID' });
  t.throws(() => cache.getOrSet('', () => 1), { code: 'SHOAL_KEY_INVALID' });
});

t.test('tags: invalidateTag deletes and expireTag marks stale, on every node, joiners included', async (t) => {
  const nodes = await startCluster(t, 3, { nearCache: { maxEntries: 100 } });
  const [a, b, c] = nodes as [ShoalNode, ShoalNode, ShoalNode];
  await a.cache.set('user:1:profile', { name: 'Ada' }, { tags: ['user:1'] });
  await a.cache.set('user:1:orders', [1, 2], { tags: ['user:1', 'orders'] });
  await a.cache.set('user:2:profile', { name: 'Bob' }, { tags: ['user:2'] });
  t.same(await c.cache.get('user:1:profile'), { name: 'Ada' }, 'tagged values read as plain values');
  t.same(await c.cache.get('user:1:profile'), { name: 'Ada' }, 'and from the near cache');
  t.same(await b.cache.invalidateTag('user:1'), { nodes: 3 });
  for (const node of nodes) {
    t.equal(await node.cache.get('user:1:profile'), undefined, `${node.id}: user:1 profile gone`);
    t.equal(await node.cache.get('user:1:orders'), undefined, `${node.id}: user:1 orders gone`);
    t.same(await node.cache.get('user:2:profile'), { name: 'Bob' }, `${node.id}: user:2 kept`);
  }
  await a.cache.set('user:1:profile', { name: 'Ada 2' }, { tags: ['user:1'] });
  t.same(await c.cache.get('user:1:profile'), { name: 'Ada 2' }, 'a value written after the invalidation is kept');

  await a.cache.getOrSet('report', () => 'r1', { grace: '1m', tags: ['reports'] });
  await c.cache.expireTag('reports');
  t.equal(await b.cache.get('report'), undefined, 'expired: plain get misses');
  t.equal(
    await b.cache.getOrSet(
      'report',
      () => {
        throw new Error('down');
      },
      { grace: '1m', tags: ['reports'] },
    ),
    'r1',
    'expired: getOrSet serves it within grace when the loader fails',
  );
  t.equal(await b.cache.getOrSet('report', () => 'r2', { grace: '1m', tags: ['reports'] }), 'r2', 'and refreshes it');

  const { createNode } = await import('../../src/index.js');
  const d = await createNode({
    port: 0,
    nodeId: 'n3',
    seeds: [a.address],
    membership: 'local',
    antiEntropyIntervalMs: 0,
  });
  t.teardown(() => d.shutdown());
  await converged(t, [...nodes, d]);
  await eventually(t, 'the joiner has the tag marks', () => d.invalidationStats().tags >= 2);
  t.equal(await d.cache.get('user:1:orders'), undefined, 'the joiner does not serve an invalidated value');
  await t.rejects(a.cache.invalidateTag(''), { code: 'SHOAL_TAG_INVALID' });
  t.throws(() => a.cache.set('k', 1, { tags: [42 as never] }), { code: 'SHOAL_TAG_INVALID' });
});

t.test('invalidateOn: a domain event deletes the keys it names, once, cluster-wide', async (t) => {
  const nodes = await startCluster(t, 3, { nearCache: { maxEntries: 100 } });
  const [a, b, c] = nodes as [ShoalNode, ShoalNode, ShoalNode];
  await a.log.createTopic('prices', { partitions: 2 });
  const mapped: string[] = [];
  const consumers = nodes.map((node) =>
    node.cache.invalidateOn(
      'prices',
      (message) => {
        const { productId } = message.value as { productId: string };
        mapped.push(productId);
        return { keys: [`price:${productId}`], tags: [`product:${productId}`] };
      },
      { from: 'earliest' },
    ),
  );
  t.teardown(() => Promise.all(consumers.map((consumer) => consumer.close())));
  await a.cache.set('price:7', 100);
  await a.cache.set('listing:7', 'page', { tags: ['product:7'] });
  t.equal(await c.cache.get('price:7'), 100);
  await b.log.append('prices', { productId: '7', price: 120 }, { key: '7' });
  await eventually(
    t,
    'the price key is gone everywhere',
    async () => (await c.cache.get('price:7')) === undefined,
    10_000,
  );
  t.equal(await a.cache.get('listing:7'), undefined, 'the tag named by the event is invalidated');
  // a later event on the same key (same partition, delivered in order): once it is handled, a second
  // delivery of the first could only come after the ack timeout
  await b.log.append('prices', { productId: 'later', price: 1 }, { key: '7' });
  await eventually(t, 'the later event is handled', () => mapped.includes('later'), 10_000);
  t.equal(mapped.filter((id) => id === '7').length, 1, 'the event was handled once across the group');
});

t.test('with a near cache, a fresh getOrSet value from a remote primary is kept and served locally', async (t) => {
  const nodes = await startCluster(t, 2, { nearCache: { maxEntries: 100 } });
  const [a, b] = nodes as [ShoalNode, ShoalNode];
  await eventually(t, 'subscribed', () => b.invalidationStats().source.subscribers >= 1);
  let key = '';
  for (let i = 0; key === ''; i++) if (a.primaryOf(`gn:${i}`) === b.id) key = `gn:${i}`;
  t.equal(await b.cache.getOrSet(key, () => 'loaded', { ttl: '1m' }), 'loaded');
  t.equal(await a.cache.getOrSet(key, () => 'not called'), 'loaded', 'fresh from the primary');
  const hits = a.nearCache?.stats().hits ?? 0;
  t.equal(await a.cache.getOrSet(key, () => 'not called'), 'loaded');
  t.equal(a.nearCache?.stats().hits, hits + 1, 'the second read is a near hit');
  await b.cache.set(key, 'changed');
  await eventually(t, 'the write invalidates the near copy', () => a.nearCache?.holds(key) === false);
  t.equal(await a.cache.getOrSet(key, () => 'not called'), 'changed');
  t.equal(a.cache.loaderCalls + b.cache.loaderCalls, 1);
});
