/**
 * Pattern 2: asynchronous cache warm-up from a list of ids.
 *
 * Before a sale opens (or after a deploy), the ids of the products about to
 * be read are published to a topic; a warmer, a consumer group, loads each
 * from the database into the distributed cache, several at a time, with
 * progress and lag visible. Warmers on several nodes share the work, and one
 * that dies leaves its ids to the others. An id the database does not have is
 * skipped; a loader that keeps failing ends in `products.warm.dlq`.
 */
import type { ShoalNode, WarmerProgress } from '@shoal/node';
import Database from 'better-sqlite3';
import { runIfMain, startLocalCluster } from './lib/local-cluster.js';

/** Result of the example, for the smoke test. */
export interface WarmUpResult {
  published: number;
  /** Final counters of the two warmers, summed. */
  progress: Pick<WarmerProgress, 'loaded' | 'skipped' | 'failed' | 'lag'>;
  /** Lag figures reported while the warm-up ran (first to last). */
  lagSeen: number[];
  /** `product:*` keys in the cache afterwards. */
  cached: number;
  sample: unknown;
}

export async function main(products = 500): Promise<WarmUpResult> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT, price REAL)');
  const insert = db.prepare('INSERT INTO products VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < products; i++) insert.run(`p${i}`, `product ${i}`, 10 + (i % 90));
  })();
  const select = db.prepare('SELECT * FROM products WHERE id = ?');
  const cluster = await startLocalCluster(3);
  try {
    const [n0, n1, n2] = cluster.nodes as [ShoalNode, ShoalNode, ShoalNode];
    await n0.log.createTopic('products.warm', { partitions: 4 });
    // one id the database does not know: it is skipped, not cached
    const ids = [...Array.from({ length: products }, (_, i) => `p${i}`), 'p-discontinued'];
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((id) => n0.log.append('products.warm', id, { key: id })));
    }
    console.log(`published ${ids.length} ids to products.warm`);

    const loader = async (id: string) => {
      await new Promise((resolve) => setTimeout(resolve, 2)); // a database round trip
      return select.get(id) ?? undefined;
    };
    const lagSeen: number[] = [];
    const warmers = [n1, n2].map((node) =>
      node.warmer({
        topic: 'products.warm',
        group: 'product-warmer',
        loader,
        key: (id) => `product:${id}`,
        ttl: '10m',
        concurrency: 16,
        progressIntervalMs: 100,
      }),
    );
    (warmers[0] as (typeof warmers)[number]).on('progress', (p) => {
      if (Number.isFinite(p.lag)) lagSeen.push(p.lag);
      console.log(`warm-up: loaded ${p.loaded}, skipped ${p.skipped}, lag ${p.lag}, ${p.ratePerSec.toFixed(0)} ids/s`);
    });
    await Promise.all(warmers.map((w) => w.drained(30_000)));
    const finals = warmers.map((w) => w.progress());
    await Promise.all(warmers.map((w) => w.stop()));
    const progress = {
      loaded: finals.reduce((s, p) => s + p.loaded, 0),
      skipped: finals.reduce((s, p) => s + p.skipped, 0),
      failed: finals.reduce((s, p) => s + p.failed, 0),
      lag: Math.max(...finals.map((p) => p.lag)),
    };
    lagSeen.push(progress.lag);
    let cached = 0;
    let cursor = 0;
    do {
      const page = await n0.cache.scan({ cursor, prefix: 'product:', count: 500 });
      cached += page.keys.length;
      cursor = page.cursor;
    } while (cursor !== 0);
    const sample = await n0.cache.get('product:p7');
    console.log(`done: ${cached} products cached`, progress, 'sample', sample);
    return { published: ids.length, progress, lagSeen, cached, sample };
  } finally {
    await cluster.close();
    db.close();
  }
}

runIfMain(import.meta.url, main);
