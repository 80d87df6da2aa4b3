/**
 * Pattern 6: a two-level cache, near + distributed.
 *
 * Each node keeps a small near cache of values whose primary is another node;
 * behind it, the distributed cache; behind that, the database, reached through
 * `getOrSet` so a miss loads once for the whole cluster. A skewed read mix
 * (a few products read far more than the rest) is served mostly from the near
 * cache, without a network hop. A write goes to the key's primary, whose
 * invalidation stream drops every near copy, so no node keeps serving the old
 * row.
 */
import type { ShoalNode } from '@shoal/node';
import Database from 'better-sqlite3';
import { runIfMain, startLocalCluster, until } from './lib/local-cluster.js';

interface ProductRow {
  id: number;
  name: string;
  price: number;
}

/** Result of the example, for the smoke test. */
export interface TwoLevelCacheResult {
  reads: number;
  /** Reads served by the reading node's near cache. */
  nearHits: number;
  /** Reads that missed the near cache and were served by the distributed cache. */
  distributedHits: number;
  /** Reads that went to the database (loader calls). */
  databaseCalls: number;
  /** nearHits / reads. */
  nearHitRatio: number;
  /** distributedHits / (reads - nearHits): how often the second level caught a near miss. */
  distributedHitRatio: number;
  /** The hottest product, which every node read before the write. */
  hotKey: string;
  /** Nodes holding a near copy of it before the write, and after. */
  nearCopiesBefore: number;
  nearCopiesAfter: number;
  /** What each node read after the write. */
  pricesAfter: number[];
  newPrice: number;
  /** Ms from the start of the write to the last near copy dropped. */
  dropMs: number;
}

/** Seeded, so every run reads the same mix (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = Math.imul(s ^ (s >>> 15), s | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** Product ids drawn with Zipf(1) popularity over 1..n: id 1 most read, then 2, ... */
function zipfIds(n: number, count: number, seed: number): number[] {
  const cdf: number[] = [];
  let sum = 0;
  for (let r = 1; r <= n; r++) {
    sum += 1 / r;
    cdf.push(sum);
  }
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const u = next() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  });
}

export async function main(products = 1000, reads = 5000): Promise<TwoLevelCacheResult> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL)');
  const insert = db.prepare('INSERT INTO products VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let id = 1; id <= products; id++) insert.run(id, `product ${id}`, 10 + (id % 90));
  })();
  const select = db.prepare('SELECT * FROM products WHERE id = ?');
  let databaseCalls = 0;
  const loadProduct = async (key: string) => {
    databaseCalls++;
    return select.get(Number(key.slice('product:'.length))) as ProductRow | undefined;
  };

  // the near cache holds a tenth of the products: the skew decides what stays in it
  const cluster = await startLocalCluster(3, { nearCache: { maxEntries: Math.ceil(products / 10), maxTtl: '1m' } });
  try {
    const nodes = cluster.nodes;
    const [writer, reader] = nodes as [ShoalNode, ShoalNode];
    const near = reader.nearCache;
    if (near === undefined) throw new Error('the example needs the near cache on');
    const read = async (node: ShoalNode, key: string) =>
      ((await node.cache.get(key)) ?? (await node.cache.getOrSet(key, loadProduct, { ttl: '10m' }))) as
        | ProductRow
        | undefined;

    // a near cache keeps a value only from a primary whose invalidation stream it is subscribed to
    await until('every near cache to subscribe to every primary', () =>
      nodes.every((n) => n.invalidationStats().source.subscribers === nodes.length - 1),
    );
    const hitsBefore = near.stats().hits;
    const callsBefore = databaseCalls;
    for (const id of zipfIds(products, reads, 42)) await read(reader, `product:${id}`);
    const nearHits = near.stats().hits - hitsBefore;
    const calls = databaseCalls - callsBefore;
    const distributedHits = reads - nearHits - calls;
    const result = {
      reads,
      nearHits,
      distributedHits,
      databaseCalls: calls,
      nearHitRatio: nearHits / reads,
      distributedHitRatio: distributedHits / Math.max(1, reads - nearHits),
    };
    console.log(
      `${reads} reads on one node: near cache ${(100 * result.nearHitRatio).toFixed(1)}% hits, ` +
        `distributed cache ${(100 * result.distributedHitRatio).toFixed(1)}% of the rest, ${calls} database calls`,
    );

    // the hottest product whose primary is not the writer: every other node can hold a near copy of it
    const hotId =
      Array.from({ length: 50 }, (_, i) => i + 1).find((id) => writer.primaryOf(`product:${id}`) !== writer.id) ?? 1;
    const hotKey = `product:${hotId}`;
    for (const node of nodes) {
      await read(node, hotKey);
      await read(node, hotKey); // the second read keeps the primary's reply in the near cache
    }
    const holders = () => nodes.filter((n) => n.nearCache?.holds(hotKey)).length;
    const nearCopiesBefore = holders();
    console.log(`${hotKey} is held in ${nearCopiesBefore} near caches`);

    const newPrice = (select.get(hotId) as ProductRow).price + 1;
    db.prepare('UPDATE products SET price = ? WHERE id = ?').run(newPrice, hotId);
    // each near cache reports its drop of the key: from the primary's stream, or from the writer's own write
    const droppedAt = new Map<ShoalNode, number>();
    for (const node of nodes) {
      const cache = node.nearCache;
      if (!cache?.holds(hotKey)) continue;
      cache.onInvalidate = (key) => {
        if (key === hotKey) droppedAt.set(node, performance.now());
      };
    }
    const writtenAt = performance.now();
    await writer.cache.set(hotKey, select.get(hotId), { ttl: '10m' });
    await until('every near copy to be invalidated', () => droppedAt.size === nearCopiesBefore);
    const nearCopiesAfter = holders();
    const dropMs = Math.max(...droppedAt.values()) - writtenAt;
    const pricesAfter = [];
    for (const node of nodes) pricesAfter.push((await read(node, hotKey))?.price as number);
    console.log(
      `after the write: ${nearCopiesAfter} near copies (${dropMs.toFixed(1)} ms), every node reads ${pricesAfter}`,
    );
    return { ...result, hotKey, nearCopiesBefore, nearCopiesAfter, pricesAfter, newPrice, dropMs };
  } finally {
    await cluster.close();
    db.close();
  }
}

runIfMain(import.meta.url, main);
