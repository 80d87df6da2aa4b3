/**
 * The near cache against real nodes: what it serves is never older than an
 * invalidation it has seen, under concurrent writes, through a dropped stream
 * connection and through the death of the keys' primary.
 */
import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { eventually, startCluster } from '../cluster/helpers.js';

/** Keys whose primary is `owner` in `node`'s table. */
function keysOwnedBy(node: ShoalNode, owner: string, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count && i < 100_000; i++) {
    if (node.primaryOf(`${prefix}${i}`) === owner) keys.push(`${prefix}${i}`);
  }
  return keys;
}

t.test('a near copy is served locally and dropped when another node writes the key', async (t) => {
  const nodes = await startCluster(t, 3, { nearCache: { maxEntries: 1000 } });
  const [reader, owner, writer] = nodes as [ShoalNode, ShoalNode, ShoalNode];
  const [key] = keysOwnedBy(reader, owner.id, 1, 'basic:');
  await writer.cache.set(key as string, 'v1');
  await eventually(t, 'reader subscribed', () => (owner.invalidationStats().source.subscribers ?? 0) >= 1);
  t.equal(await reader.cache.get(key as string), 'v1');
  t.equal(await reader.cache.get(key as string), 'v1');
  const near = reader.nearCache;
  t.ok(near, 'the reader has a near cache');
  t.equal(near?.stats().hits, 1, 'the second read is a near hit');
  await writer.cache.set(key as string, 'v2');
  await eventually(t, 'the invalidation reaches the reader', () => near?.holds(key as string) === false);
  t.equal(await reader.cache.get(key as string), 'v2');
  await reader.cache.set(key as string, 'v3');
  t.equal(await reader.cache.get(key as string), 'v3', 'a node reads its own write at once');
});

t.test('never older than a seen invalidation: concurrent writes, a dropped stream, a dead primary', async (t) => {
  const nodes = await startCluster(t, 3, { nearCache: { maxEntries: 10_000 }, requestTimeoutMs: 8000 });
  const [reader, owner, writer] = nodes as [ShoalNode, ShoalNode, ShoalNode];
  const keys = keysOwnedBy(reader, owner.id, 16, 'load:');
  const near = reader.nearCache;
  if (near === undefined) throw new Error('no near cache');
  await eventually(t, 'reader subscribed', () => owner.invalidationStats().source.subscribers >= 1);

  // newest write version whose invalidation the reader has seen, per key
  const seen = new Map<string, number>();
  near.onInvalidate = (key, version) => {
    if (version !== undefined && version > (seen.get(key) ?? 0)) seen.set(key, version);
  };
  // version of each acknowledged value, read from its primary right after the ack
  const versions = new Map<string, Map<number, number>>(keys.map((k) => [k, new Map()]));
  const alive = new Set(nodes);
  const primaryNode = (key: string) => [...alive].find((n) => n.id === writer.primaryOf(key));

  let writing = true;
  let acked = 0;
  let violations = 0;
  let checked = 0;
  const deadline = Date.now() + 45_000;
  const writers = keys.map(async (key) => {
    let counter = 0;
    while (writing && Date.now() < deadline) {
      // a write every few ms per key, so reads between writes can hit the near copy
      await new Promise((resolve) => setTimeout(resolve, 5));
      counter++;
      try {
        await writer.cache.set(key, { n: counter });
      } catch {
        continue; // not acknowledged: its counter is skipped, so later values still grow
      }
      acked++;
      const primary = primaryNode(key);
      const stored = primary?.localCache.entry(key);
      if (stored !== undefined && (stored.value as { n: number }).n === counter) {
        versions.get(key)?.set(counter, stored.version);
      }
    }
  });
  const readers = keys.map(async (key) => {
    while (writing && Date.now() < deadline) {
      // every iteration waits a timer: a loop of near hits alone would never yield to I/O
      await new Promise((resolve) => setTimeout(resolve, 1));
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
        t.fail(`${key}: served n=${value?.n} (version ${version}) after seeing invalidation ${before}`);
      }
    }
  });

  await eventually(t, 'near hits under load', () => near.stats().hits > 200 && acked > 200, 15_000);
  // drop the stream connection: the reader must drop everything it holds
  const clears = near.stats().clears;
  (owner as unknown as { transport: { disconnect(a: string): void } }).transport.disconnect(reader.address);
  await eventually(t, 'the near cache is dropped with its stream', () => near.stats().clears > clears, 10_000);
  const hitsBefore = near.stats().hits;
  await eventually(t, 'near hits again after resubscribing', () => near.stats().hits > hitsBefore + 100, 10_000);
  // the keys' primary dies: a new primary (new epoch) takes over
  alive.delete(owner);
  await owner.shutdown();
  await eventually(t, 'a new primary for the keys', () => writer.primaryOf(keys[0] as string) !== owner.id, 15_000);
  const ackedAtFailover = acked;
  await eventually(t, 'writes continue after the failover', () => acked > ackedAtFailover + 200, 15_000);
  writing = false;
  await Promise.all([...writers, ...readers]);
  t.equal(violations, 0, `no stale read in ${checked} checked reads (${near.stats().hits} near hits)`);
  t.ok(checked > 500, `enough reads were checked (${checked})`);
  const stats = near.stats();
  t.ok(stats.invalidations > 0 && stats.partitionDrops + stats.clears > 0, 'invalidations and drops happened');
});

t.test('hot keys: a node without a near cache keeps a short copy of a key read far more than others', async (t) => {
  const nodes = await startCluster(t, 2, { hotKeys: { threshold: 4, ttl: 5000 } });
  const [reader, owner] = nodes as [ShoalNode, ShoalNode];
  const [hot, cold] = keysOwnedBy(reader, owner.id, 2, 'hot:') as [string, string];
  await owner.cache.set(hot, 'h1');
  await owner.cache.set(cold, 'c1');
  await eventually(t, 'subscribed', () => owner.invalidationStats().source.subscribers >= 1);
  for (let i = 0; i < 20; i++) await reader.cache.get(hot);
  await reader.cache.get(cold);
  const copies = reader.nearCache;
  t.ok(copies?.holds(hot), 'the hot key is copied');
  t.notOk(copies?.holds(cold), 'a key read once is not');
  t.equal(reader.invalidationStats().nearCache?.mode, 'hot-keys');
  await owner.cache.set(hot, 'h2');
  await eventually(t, 'the copy is invalidated', () => copies?.holds(hot) === false);
  t.equal(await reader.cache.get(hot), 'h2');
});

t.test('near cache options are validated', async (t) => {
  const { createNode } = await import('../../src/index.js');
  await t.rejects(createNode({ port: 0, nearCache: { maxEntries: 0 } }), { code: 'SHOAL_CONFIG_INVALID' });
  await t.rejects(createNode({ port: 0, nearCache: { maxEntries: 10, maxTtl: 'soon' } }), {
    code: 'SHOAL_CONFIG_INVALID',
  });
  await t.rejects(createNode({ port: 0, hotKeys: { threshold: 99 } }), { code: 'SHOAL_CONFIG_INVALID' });
});
