import { MessageKind } from '@shoal/protocol';
import t from 'tap';
import type { EvictionPolicyName, ShoalNode } from '../../src/index.js';
import { LocalCache, ManualClock } from '../../src/index.js';
import { ReplicaStore } from '../../src/replication/replica-store.js';
import type { PeerTransport } from '../../src/transport/peer-transport.js';
import { AFTER_HOT_PAGE, hotFirstPage } from '../../src/warmup/hot-first.js';
import { startCluster } from '../cluster/helpers.js';
import { turnsDuring } from '../turns.js';

const partitionOf = (key: string) => Number(key.split(':')[1]) % 4;

function storeWith(eviction: EvictionPolicyName, keys: number, hot: readonly number[], reads: number): ReplicaStore {
  const clock = new ManualClock(1_000_000);
  const cache = new LocalCache({ maxEntries: 100_000, eviction, nodeId: 'a', clock });
  for (let i = 0; i < keys; i++) cache.set(`k:${i}`, i);
  for (let r = 0; r < reads; r++) for (const i of hot) cache.get(`k:${i}`);
  // a few reads of other keys, so "hot" means read far more, not read at all
  for (let i = 0; i < keys; i += 7) cache.get(`k:${i}`);
  return new ReplicaStore(cache, partitionOf, clock, 60_000);
}

for (const eviction of ['tinylfu', 'lfu'] as const) {
  t.test(`Migration page under ${eviction}: the first page is the hottest keys, then every key follows`, async (t) => {
    const hot = [3, 17, 42, 101, 250, 777, 1234, 1501, 1802, 1990].flatMap((i) => [i, i + 1]);
    const store = storeWith(eviction, 2000, hot, 40);
    const partitions = new Set([0, 1]);
    const first = await hotFirstPage(store, partitionOf, partitions, 0, 50);
    t.equal(first.cursor, AFTER_HOT_PAGE, 'the scan follows the hot page');
    const wanted = hot.filter((i) => partitions.has(i % 4)).map((i) => `k:${i}`);
    const head = first.items.slice(0, wanted.length).map(([key]) => key);
    t.same([...head].sort(), [...wanted].sort(), 'the hottest keys of these partitions lead the first page');
    t.ok(
      first.items.every(([key]) => partitions.has(partitionOf(key))),
      'only keys of the requested partitions',
    );
    const heat = first.items.map(([key]) => store.cache.hotness(key));
    t.ok(
      heat.every((h, i) => i === 0 || h <= (heat[i - 1] as number)),
      'hottest first, in descending hotness',
    );

    const all = new Set(first.items.map(([key]) => key));
    let cursor = first.cursor;
    let pages = 1;
    while (cursor !== 0 && pages < 1000) {
      const page = await hotFirstPage(store, partitionOf, partitions, cursor, 50);
      for (const [key] of page.items) all.add(key);
      cursor = page.cursor;
      pages++;
    }
    t.equal(all.size, 1000, 'every key of the two partitions is sent');
  });
}

t.test('The hot page of a large store is found in turns: the event loop runs in between', async (t) => {
  const store = storeWith('tinylfu', 20_000, [1, 2, 3], 10);
  const { result: page, turns } = await turnsDuring(() => hotFirstPage(store, partitionOf, new Set([1, 2]), 0, 20));
  t.equal(page.cursor, AFTER_HOT_PAGE);
  t.ok(turns >= 2, `${turns} event-loop turns ran while 20k keys were ranked (none when read in one go)`);
});

t.test('Migration page under lru keeps no count: the plain scan from the start', async (t) => {
  const store = storeWith('lru', 200, [5, 6], 40);
  const page = await hotFirstPage(store, partitionOf, new Set([1, 2]), 0, 20);
  t.not(page.cursor, AFTER_HOT_PAGE);
  t.same(page, store.scanPartitions(new Set([1, 2]), 0, 20));
});

t.test('A node serving a migration pull over the wire sends its hottest keys in the first page', async (t) => {
  const [a, b] = (await startCluster(t, 2, { replicas: 1, partitionCount: 8 })) as [ShoalNode, ShoalNode];
  for (let i = 0; i < 3000; i++) await a.cache.set(`k:${i}`, i);
  const hot = Array.from({ length: 30 }, (_, i) => `k:${i * 97}`);
  for (let r = 0; r < 40; r++) await Promise.all(hot.map((key) => a.cache.get(key)));
  const owned = a
    .partitionTable()
    .owners.map((owners, p) => (owners[0] === a.id ? p : -1))
    .filter((p) => p >= 0);
  const hotHere = hot.filter((key) => a.localCache.entry(key) !== undefined);
  t.ok(hotHere.length > 0 && owned.length > 0, `${hotHere.length} hot keys on ${a.id}`);
  // b asks as a gainer would, through its own peer transport
  const transport = (b as unknown as { transport: PeerTransport }).transport;
  const page = (await transport.request(a.address, MessageKind.MigratePull, [owned, 0, 100], 10_000)) as {
    items: [string, unknown][];
    cursor: number;
  };
  t.equal(page.cursor, AFTER_HOT_PAGE);
  const head = page.items.slice(0, hotHere.length).map(([key]) => key);
  t.same([...head].sort(), [...hotHere].sort(), 'the first page opens with the hot keys');
});
