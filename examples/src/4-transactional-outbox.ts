/**
 * Pattern 4: the transactional message (outbox).
 *
 * The business row and the message row are written in one SQLite
 * transaction, so both commit or neither does: no event for an order that
 * was rolled back, no order without its event even if the process dies right
 * after the commit. A relay (OutboxRelay) appends pending outbox rows to the
 * Shoal log with the row id as producer id (a relay that crashes after the
 * append and before marking the row sent appends it again, and the log drops
 * the duplicate). A consumer group downstream sees each committed order once.
 */
import { OutboxRelay, type ShoalNode, SqliteOutbox } from '@shoal/node';
import Database from 'better-sqlite3';
import { runIfMain, startLocalCluster, until } from './lib/local-cluster.js';

/** Result of the example, for the smoke test. */
export interface OutboxResult {
  /** Order rows in the database at the end. */
  orders: number[];
  /** Order ids the downstream consumer received, in order. */
  consumed: number[];
  /** The transaction that threw: its order and message are both absent. */
  rolledBack: { orderId: number; error: string };
  /** Outbox rows by state at the end. */
  outbox: { pending: number; sent: number; failed: number };
}

export async function main(): Promise<OutboxResult> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)');
  const outbox = new SqliteOutbox(db);
  const cluster = await startLocalCluster(2);
  try {
    const [shop, billing] = cluster.nodes as [ShoalNode, ShoalNode];
    await shop.log.createTopic('orders.placed', { partitions: 2 });
    const relay = new OutboxRelay({ store: outbox, log: shop.log, idPrefix: 'shop-db:', pollIntervalMs: 20 });
    relay.start();

    const consumed: number[] = [];
    const consumer = billing.log.consume('orders.placed', { group: 'billing', from: 'earliest' }, (m) => {
      consumed.push((m.value as { id: number }).id);
    });

    const placeOrder = db.transaction((id: number, customer: string, total: number, fail: boolean) => {
      db.prepare('INSERT INTO orders VALUES (?, ?, ?)').run(id, customer, total);
      outbox.enqueue({ topic: 'orders.placed', key: customer, value: { id, customer, total } });
      // e.g. a stock check after the insert: throwing rolls back the order and its message together
      if (fail) throw new Error(`order ${id}: out of stock`);
    });

    placeOrder(1, 'ada', 25, false);
    relay.notify();
    let rolledBack = { orderId: 2, error: '' };
    try {
      placeOrder(2, 'bob', 40, true);
    } catch (err) {
      rolledBack = { orderId: 2, error: (err as Error).message };
    }
    placeOrder(3, 'ada', 12, false);
    relay.notify();

    await until('both committed orders consumed', () => consumed.length >= 2);
    // a flush after the consumer saw both: whatever was pending has been relayed by now
    await relay.flushOnce();
    await until('the outbox rows marked sent', () => outbox.counts().pending === 0);
    await relay.stop();
    await consumer.close();
    const orders = (db.prepare('SELECT id FROM orders ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    console.log('orders in the database:', orders, '- consumed:', consumed, '- rolled back:', rolledBack);
    return { orders, consumed, rolledBack, outbox: outbox.counts() };
  } finally {
    await cluster.close();
    db.close();
  }
}

runIfMain(import.meta.url, main);
