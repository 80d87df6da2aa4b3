/**
 * Pattern 3: event-driven invalidation across two services.
 *
 * The product service owns prices: it changes one in SQLite and appends a
 * `price-changed` event. The inventory and recommendation services each keep
 * their own cached view of the product (near-cached on their own node) and
 * neither calls the other: each drops its copies through `invalidateOn`, a
 * consumer group of its own that maps an event to the keys it has to delete.
 * The delete reaches every near copy through the key's primary, so after the
 * event both services read the new price.
 */
import type { ShoalNode } from '@shoal/node';
import Database from 'better-sqlite3';
import { runIfMain, startLocalCluster, until } from './lib/local-cluster.js';

interface ProductRow {
  id: number;
  name: string;
  price: number;
}

/** What one service saw of the price change. */
export interface ServiceView {
  /** Price its cached view held before the event. */
  priceBefore: number | undefined;
  /** Price it read after the event. */
  priceAfter: number | undefined;
  /** Whether its node held the view in the near cache before and after. */
  nearBefore: boolean;
  nearAfter: boolean;
  /** Ms from the event's append to this service dropping its copy. */
  invalidationMs: number;
}

/** Result of the example, for the smoke test. */
export interface EventDrivenInvalidationResult {
  productId: number;
  oldPrice: number;
  newPrice: number;
  inventory: ServiceView;
  recommendation: ServiceView;
  /** Database reads of the two services' loaders (first fill and one refill each after the event). */
  databaseReads: number;
}

/** A service's cache on its node: its own key per product, read through the near cache, loaded from SQLite. */
class ServiceCache {
  droppedAt = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly node: ShoalNode,
    private readonly view: (id: number) => Promise<unknown>,
  ) {
    // every drop of a key on this node (the near copy, or the local delete invalidateOn issues) passes here
    const near = node.nearCache;
    if (near !== undefined) near.onInvalidate = (key) => this.droppedAt.set(key, performance.now());
  }

  keyOf(id: number): string {
    return `${this.name}:product:${id}`;
  }

  /** Near cache, then the distributed cache; a miss in both loads once for the whole cluster. */
  async read(id: number): Promise<{ price: number } | undefined> {
    const key = this.keyOf(id);
    const cached = await this.node.cache.get(key);
    if (cached !== undefined) return cached as { price: number };
    return (await this.node.cache.getOrSet(key, () => this.view(id), { ttl: '10m' })) as { price: number } | undefined;
  }
}

export async function main(): Promise<EventDrivenInvalidationResult> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL)');
  db.exec('CREATE TABLE stock (product INTEGER PRIMARY KEY, units INTEGER)');
  const insert = db.prepare('INSERT INTO products VALUES (?, ?, ?)');
  const stock = db.prepare('INSERT INTO stock VALUES (?, ?)');
  db.transaction(() => {
    for (let id = 1; id <= 50; id++) {
      insert.run(id, `product ${id}`, 10 + id);
      stock.run(id, 100 + id);
    }
  })();
  let databaseReads = 0;
  const productRow = db.prepare('SELECT * FROM products WHERE id = ?');
  const unitsOf = db.prepare('SELECT units FROM stock WHERE product = ?');

  const cluster = await startLocalCluster(3, { nearCache: { maxEntries: 1000 } });
  try {
    const [productNode, inventoryNode, recommendationNode] = cluster.nodes as [ShoalNode, ShoalNode, ShoalNode];
    await productNode.log.createTopic('price-changed', { partitions: 2 });

    const inventory = new ServiceCache('inventory', inventoryNode, async (id) => {
      databaseReads++;
      const row = productRow.get(id) as ProductRow | undefined;
      const units = (unitsOf.get(id) as { units: number } | undefined)?.units ?? 0;
      return row && { id, price: row.price, units, stockValue: row.price * units };
    });
    const recommendation = new ServiceCache('recommendation', recommendationNode, async (id) => {
      databaseReads++;
      const row = productRow.get(id) as ProductRow | undefined;
      return row && { id, price: row.price, alsoBought: [id + 1, id + 2].filter((other) => other <= 50) };
    });
    const services = [inventory, recommendation];

    // each service maps the event to its own keys, in its own consumer group: the services know nothing of each other
    const consumers = services.map((service) =>
      service.node.cache.invalidateOn('price-changed', (m) => service.keyOf((m.value as { id: number }).id), {
        group: `${service.name}-cache`,
        from: 'earliest',
      }),
    );

    // a near cache keeps a value only from a primary whose invalidation stream it is subscribed to
    await until('every near cache to subscribe to every primary', () =>
      cluster.nodes.every((n) => n.invalidationStats().source.subscribers === cluster.nodes.length - 1),
    );
    // a product whose views both live in near caches (primary elsewhere), so the drop is visible there
    const productId =
      Array.from({ length: 50 }, (_, i) => i + 1).find((id) =>
        services.every((s) => s.node.primaryOf(s.keyOf(id)) !== s.node.id),
      ) ?? 1;
    const oldPrice = (productRow.get(productId) as ProductRow).price;
    const newPrice = oldPrice + 5;

    // first read loads, the second fills the near cache from the primary, the third is served by it
    const before = [];
    for (const service of services) {
      await service.read(productId);
      await service.read(productId);
      before.push((await service.read(productId))?.price);
    }
    const nearBefore = services.map((s) => s.node.nearCache?.holds(s.keyOf(productId)) ?? false);
    console.log(`product ${productId} costs ${oldPrice}; inventory and recommendation have it cached`);

    // the product service: the database first, then the event
    db.prepare('UPDATE products SET price = ? WHERE id = ?').run(newPrice, productId);
    const appendedAt = performance.now();
    await productNode.log.append('price-changed', { id: productId, price: newPrice }, { key: String(productId) });
    console.log(`product service: price of ${productId} set to ${newPrice}, price-changed appended`);

    await until('both services to drop their copies', () =>
      services.every((s) => (s.droppedAt.get(s.keyOf(productId)) ?? 0) >= appendedAt),
    );
    const nearAfter = services.map((s) => s.node.nearCache?.holds(s.keyOf(productId)) ?? false);
    const views: ServiceView[] = [];
    for (const [i, service] of services.entries()) {
      const invalidationMs = (service.droppedAt.get(service.keyOf(productId)) as number) - appendedAt;
      const priceAfter = (await service.read(productId))?.price;
      console.log(
        `${service.name}: dropped its copy ${invalidationMs.toFixed(1)} ms after the event, now reads ${priceAfter}`,
      );
      views.push({
        priceBefore: before[i],
        priceAfter,
        nearBefore: nearBefore[i] as boolean,
        nearAfter: nearAfter[i] as boolean,
        invalidationMs,
      });
    }
    await Promise.all(consumers.map((c) => c.close()));
    return {
      productId,
      oldPrice,
      newPrice,
      inventory: views[0] as ServiceView,
      recommendation: views[1] as ServiceView,
      databaseReads,
    };
  } finally {
    await cluster.close();
    db.close();
  }
}

runIfMain(import.meta.url, main);
