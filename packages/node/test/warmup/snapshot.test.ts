import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionOf } from '@shoal/protocol';
import t, { type Test } from 'tap';
import { isShoalError, type ShoalNode } from '../../src/index.js';
import { eventually, startCluster } from '../cluster/helpers.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-snapshot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Owners of `key` that hold it in their own store, by node id. */
function holders(nodes: readonly ShoalNode[], key: string): string[] {
  return nodes.filter((n) => n.localCache.entry(key) !== undefined).map((n) => n.id);
}

t.test('Snapshot node scope round trip keeps values, kinds, TTLs and versions', async (t) => {
  const dir = await tempDir(t);
  const [source] = await startCluster(t, 1, { replicas: 1 });
  const a = source as ShoalNode;
  await a.cache.set('plain', { name: 'Ada', tags: ['x', 'y'] });
  await a.cache.set('session', 'abc', { ttl: '1h' });
  await a.cache.incr('visits', 41);
  await a.cache.hset('cart', { sku1: 2, sku2: 1 });
  await a.cache.rpush('queue', 'a', 'b', 'c');
  for (let i = 0; i < 600; i++) await a.cache.set(`bulk:${i}`, i);
  const file = join(dir, 'node.snapshot');
  const exported = await a.exportSnapshot(file);
  t.equal(exported.records, 605, 'every entry written');
  t.equal(exported.scope, 'node');
  t.ok(exported.bytes > 0);

  const [target] = await startCluster(t, 1, { replicas: 1, nodeId: 'fresh' });
  const b = target as ShoalNode;
  const loaded = await b.loadSnapshot(file);
  t.match(loaded, { records: 605, loaded: 605, expired: 0, stale: 0, failed: 0 });
  t.same(await b.cache.get('plain'), { name: 'Ada', tags: ['x', 'y'] });
  t.equal(await b.cache.get('visits'), 41);
  t.same(await b.cache.hgetall('cart'), { sku1: 2, sku2: 1 });
  t.same(await b.cache.lrange('queue', 0, -1), ['a', 'b', 'c']);
  t.equal(await b.cache.get('bulk:599'), 599);
  const ttl = await b.cache.ttl('session');
  t.ok(ttl > 3_500_000 && ttl <= 3_600_000, `remaining TTL kept (${ttl} ms)`);
  t.equal(await b.cache.ttl('plain'), -1, 'no TTL stays no TTL');
  t.equal(b.localCache.entry('plain')?.version, a.localCache.entry('plain')?.version, 'version kept');
  t.equal(b.localCache.entry('plain')?.origin, a.localCache.entry('plain')?.origin, 'writer kept');
  t.same((await b.stats()).snapshot.lastLoad?.loaded, 605, 'stats report the load');

  const again = await b.loadSnapshot(file);
  t.match(again, { loaded: 0, stale: 605 }, 'loading twice changes nothing');
});

t.test('Snapshot cluster scope writes each key once and loads every key into its owners', async (t) => {
  const dir = await tempDir(t);
  const source = await startCluster(t, 3, { replicas: 2 });
  const [s0] = source as [ShoalNode];
  for (let i = 0; i < 300; i++) await s0.cache.set(`k:${i}`, { i });
  await s0.cache.set('short', 'lived', { ttl: 1500 });
  const file = join(dir, 'cluster.snapshot');
  const exported = await (source[1] as ShoalNode).exportSnapshot(file, { scope: 'cluster' });
  t.equal(exported.records, 301, 'each key once although every key has two copies');
  const nodeScope = await s0.exportSnapshot(join(dir, 'n0.snapshot'));
  t.ok(nodeScope.records > 0 && nodeScope.records < 301, `node scope holds only n0's copies (${nodeScope.records})`);

  const target = await startCluster(t, 3, { replicas: 2 });
  const [t0, t1, t2] = target as [ShoalNode, ShoalNode, ShoalNode];
  // a value written in the target cluster after the export is newer: the load must not overwrite it
  await t1.cache.set('k:7', 'newer');
  const writtenAt = Date.now();
  await eventually(t, 'the short TTL runs out', () => Date.now() > writtenAt + 1600, 5000);
  const loaded = await t2.loadSnapshot(file);
  t.match(loaded, { records: 301, loaded: 299, expired: 1, stale: 1, failed: 0 });
  t.equal(await t0.cache.get('k:7'), 'newer', 'the newer existing version wins');
  t.equal(await t0.cache.get('short'), undefined, 'expired entry skipped');
  let misplaced = 0;
  for (let i = 0; i < 300; i++) {
    const key = `k:${i}`;
    if (i !== 7) t.same(await t0.cache.get(key), { i }, `${key} readable`);
    const table = t0.partitionTable();
    const owners = table.owners[partitionOf(key, table.partitionCount)] ?? [];
    if (holders(target, key).sort().join() !== [...owners].sort().join()) misplaced++;
  }
  t.equal(misplaced, 0, 'every key is held by exactly its owners');
});

t.test('Snapshot load refuses a corrupt, truncated or foreign file and loads nothing', async (t) => {
  const dir = await tempDir(t);
  const [node] = (await startCluster(t, 1, { replicas: 1 })) as [ShoalNode];
  for (let i = 0; i < 1000; i++) await node.cache.set(`x:${i}`, `value-${i}`);
  const file = join(dir, 'good.snapshot');
  await node.exportSnapshot(file);
  const good = await readFile(file);
  await node.cache.delete('x:1');

  const flipped = Buffer.from(good);
  flipped[Math.floor(flipped.length * 0.9)] ^= 0xff; // late in the file: a prefix would be loadable
  const cases: [string, Buffer, string][] = [
    ['bit flip', flipped, 'SHOAL_SNAPSHOT_CORRUPT'],
    ['truncated', good.subarray(0, good.length - 7), 'SHOAL_SNAPSHOT_CORRUPT'],
    ['truncated before the trailer', good.subarray(0, good.length - 20), 'SHOAL_SNAPSHOT_CORRUPT'],
    ['not a snapshot', Buffer.from('{"hello":"world"}'), 'SHOAL_SNAPSHOT_CORRUPT'],
    ['empty', Buffer.alloc(0), 'SHOAL_SNAPSHOT_CORRUPT'],
    ['trailing garbage', Buffer.concat([good, Buffer.from([1, 2, 3])]), 'SHOAL_SNAPSHOT_CORRUPT'],
  ];
  const future = Buffer.from(good);
  future.writeUInt16BE(2, 8);
  cases.push(['future format version', future, 'SHOAL_SNAPSHOT_VERSION']);
  for (const [name, bytes, code] of cases) {
    const bad = join(dir, `${name.replaceAll(' ', '-')}.snapshot`);
    await writeFile(bad, bytes);
    const err = await node.loadSnapshot(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isShoalError(err, code as 'SHOAL_SNAPSHOT_CORRUPT'), `${name}: ${code} (${String(err)})`);
  }
  t.equal(await node.cache.get('x:1'), undefined, 'nothing of the damaged files was loaded');
  const missing = await node.loadSnapshot(join(dir, 'missing.snapshot')).catch((e: unknown) => e);
  t.ok(isShoalError(missing, 'SHOAL_SNAPSHOT_IO_FAILED'), 'a missing file is an IO failure');
  const bad = await node.exportSnapshot(file, { scope: 'everything' as 'node' }).catch((e: unknown) => e);
  t.ok(isShoalError(bad, 'SHOAL_ARGUMENT_INVALID'), 'an unknown scope is refused');
  t.same(await readFile(file), good, 'a refused export leaves the previous file');
});
