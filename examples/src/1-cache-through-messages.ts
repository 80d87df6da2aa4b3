/**
 * Pattern 1: the cache updated through messages after a database write.
 *
 * The order service writes the row to SQLite (the source of truth) and then
 * publishes an `orders.changed` event to the Shoal log. A consumer group reads
 * the event, re-reads the row and writes it into the distributed cache. Any
 * process reading `order:<id>` from any node sees the new row once the event
 * has been handled: a cache that follows the database by messages instead of
 * by every writer remembering to update it.
 */
import type { ShoalNode } from '@shoal/node';
import Database from 'better-sqlite3';
import { runIfMain, startLocalCluster, until } from './lib/local-cluster.js';

interface OrderRow {
  id: number;
  customer: string;
  total: number;
  status: string;
  version: number;
}

/** Result of the example, for the smoke test. */
export interface CacheThroughMessagesResult {
  /** The cached order before the update. */
  before: OrderRow | undefined;
  /** The cached order read through another node after the update event was handled. */
  after: OrderRow | undefined;
  /** Events the cache-updating consumer handled. */
  eventsHandled: number;
  /** Ms from the database commit to the cache holding the new row. */
  propagationMs: number;
}

export async function main(): Promise<CacheThroughMessagesResult> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL, status TEXT, version INTEGER)');
  const cluster = await startLocalCluster(2);
  try {
    const [orderService, cacheWorker] = cluster.nodes as [ShoalNode, ShoalNode];
    await orderService.log.createTopic('orders.changed', { partitions: 4 });

    // the write side: database first, then the event (key = order id keeps one order's events in order)
    const saveOrder = async (order: Omit<OrderRow, 'version'>) => {
      const version =
        (db.prepare('SELECT version FROM orders WHERE id = ?').get(order.id) as { version: number } | undefined)
          ?.version ?? 0;
      db.prepare('INSERT OR REPLACE INTO orders VALUES (@id, @customer, @total, @status, @version)').run({
        ...order,
        version: version + 1,
      });
      await orderService.log.append(
        'orders.changed',
        { id: order.id, version: version + 1 },
        { key: String(order.id), id: `order-${order.id}-v${version + 1}` },
      );
    };

    // the cache side: an event says "order N changed"; the row is re-read so the cache holds the committed state
    let eventsHandled = 0;
    const consumer = cacheWorker.log.consume(
      'orders.changed',
      { group: 'order-cache', from: 'earliest' },
      async (m) => {
        const { id } = m.value as { id: number };
        const row = db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as OrderRow | undefined;
        if (row === undefined) await cacheWorker.cache.delete(`order:${id}`);
        else await cacheWorker.cache.set(`order:${id}`, row, { ttl: '1h' });
        eventsHandled++;
      },
    );

    await saveOrder({ id: 42, customer: 'ada', total: 99.5, status: 'new' });
    await until('the new order in the cache', async () => (await orderService.cache.get('order:42')) !== undefined);
    const before = (await orderService.cache.get('order:42')) as OrderRow | undefined;
    console.log('cached after create:', before);

    const committedAt = Date.now();
    await saveOrder({ id: 42, customer: 'ada', total: 99.5, status: 'paid' });
    await until(
      'the paid order in the cache',
      async () => ((await orderService.cache.get('order:42')) as OrderRow | undefined)?.status === 'paid',
    );
    const propagationMs = Date.now() - committedAt;
    const after = (await orderService.cache.get('order:42')) as OrderRow | undefined;
    console.log(`cached after update (${propagationMs} ms after the commit):`, after);
    await consumer.close();
    return { before, after, eventsHandled, propagationMs };
  } finally {
    await cluster.close();
    db.close();
  }
}

runIfMain(import.meta.url, main);
