/**
 * Pattern 5: an idempotent consumer under forced redelivery.
 *
 * Consumer groups deliver at least once: a lost ack, a consumer that dies
 * mid-handler, a producer retrying outside the log's dedupe window or an
 * operator replaying the group all hand a message out again. The side effect
 * here (crediting an account in SQLite) must happen once per payment anyway.
 * `idempotent()` keeps a marker per payment id in the Shoal cache: a
 * delivery whose id is done is acked without running the handler.
 *
 * Redelivery is forced two ways: every payment is published twice under two
 * log ids (a producer retry the log cannot dedupe), and after everything was
 * handled the group is replayed from offset 0.
 */
import { idempotent, type ShoalNode } from '@shoal/node';
import Database from 'better-sqlite3';
import { runIfMain, startLocalCluster, until } from './lib/local-cluster.js';

/** Result of the example, for the smoke test. */
export interface IdempotentResult {
  payments: number;
  /** Times the consumer was handed a payment message. */
  deliveries: number;
  /** Times the side effect ran (rows in the ledger). */
  sideEffects: number;
  /** Deliveries skipped as already processed. */
  skipped: number;
  /** Final balance against the sum of the payments. */
  balance: number;
  expectedBalance: number;
}

export async function main(payments = 50): Promise<IdempotentResult> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE ledger (payment_id TEXT, amount INTEGER)');
  const credit = db.prepare('INSERT INTO ledger VALUES (?, ?)');
  const cluster = await startLocalCluster(2);
  try {
    const [gateway, accounts] = cluster.nodes as [ShoalNode, ShoalNode];
    await gateway.log.createTopic('payments', { partitions: 4 });
    let expectedBalance = 0;
    for (let i = 0; i < payments; i++) {
      const payment = { paymentId: `pay-${i}`, amount: i + 1 };
      expectedBalance += payment.amount;
      // the same payment twice under two producer ids: the log keeps both, the consumer must not count both
      await gateway.log.append('payments', payment, { key: payment.paymentId, id: `${payment.paymentId}#1` });
      await gateway.log.append('payments', payment, { key: payment.paymentId, id: `${payment.paymentId}#2` });
    }

    let deliveries = 0;
    const handler = idempotent(
      (m) => {
        const { paymentId, amount } = m.value as { paymentId: string; amount: number };
        credit.run(paymentId, amount);
      },
      {
        cache: accounts.cache,
        ttl: '1h',
        keyPrefix: 'payments:done:',
        idOf: (m) => (m.value as { paymentId: string }).paymentId,
      },
    );
    const consumer = accounts.log.consume('payments', { group: 'accounts', from: 'earliest' }, (m) => {
      deliveries++;
      return handler(m);
    });
    await until('every message handled once', () => deliveries >= payments * 2, 20_000);
    console.log(`after the first pass: ${deliveries} deliveries, ${handler.stats.processed} credited`);

    await accounts.log.replay('payments', 'accounts', { offset: 0 });
    await until('the replay delivered everything again', () => deliveries >= payments * 4, 20_000);
    await until('the group drained', async () => {
      const lag = await accounts.log.lag('payments', 'accounts');
      return lag.every((p) => p.lag === 0);
    });
    await consumer.close();

    const sideEffects = (db.prepare('SELECT COUNT(*) AS n FROM ledger').get() as { n: number }).n;
    const balance = (db.prepare('SELECT COALESCE(SUM(amount), 0) AS s FROM ledger').get() as { s: number }).s;
    console.log(
      `${deliveries} deliveries of ${payments} payments: ${sideEffects} credits, ${handler.stats.skipped} skipped; balance ${balance} (expected ${expectedBalance})`,
    );
    return { payments, deliveries, sideEffects, skipped: handler.stats.skipped, balance, expectedBalance };
  } finally {
    await cluster.close();
    db.close();
  }
}

runIfMain(import.meta.url, main);
