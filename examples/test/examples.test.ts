import t from 'tap';
import { main as cacheThroughMessages } from '../src/1-cache-through-messages.js';
import { main as warmUp } from '../src/2-cache-warm-up.js';
import { main as eventDrivenInvalidation } from '../src/3-event-driven-invalidation.js';
import { main as transactionalOutbox } from '../src/4-transactional-outbox.js';
import { main as idempotentConsumer } from '../src/5-idempotent-consumer.js';
import { main as twoLevelCache } from '../src/6-two-level-cache.js';

// the examples print what they do; the smoke test only wants their results
const quiet = () => {
  const log = console.log;
  console.log = () => {};
  return () => {
    console.log = log;
  };
};

t.test('Example 1: a read after the order update sees the row the consumer cached', async (t) => {
  const restore = quiet();
  const r = await cacheThroughMessages().finally(restore);
  t.equal(r.before?.status, 'new');
  t.equal(r.after?.status, 'paid', 'the update reached the cache through the event');
  t.equal(r.after?.version, 2);
  t.equal(r.eventsHandled, 2, 'one event per database write');
});

t.test('Example 2: the warmer loads every known id, skips the unknown one, and its lag falls to 0', async (t) => {
  const restore = quiet();
  const r = await warmUp(300).finally(restore);
  t.equal(r.published, 301);
  t.match(r.progress, { skipped: 1, failed: 0, lag: 0 });
  t.ok(r.progress.loaded >= 300, `loaded ${r.progress.loaded}`);
  t.equal(r.cached, 300, 'exactly the products the database has are cached');
  t.same(r.sample, { id: 'p7', name: 'product 7', price: 17 });
  t.ok(r.lagSeen.length >= 2 && (r.lagSeen[0] as number) > 0 && r.lagSeen.at(-1) === 0, 'lag was seen falling to 0');
});

t.test('Example 3: after price-changed both services drop their near copies and read the new price', async (t) => {
  const restore = quiet();
  const r = await eventDrivenInvalidation().finally(restore);
  t.not(r.newPrice, r.oldPrice);
  for (const [name, view] of [
    ['inventory', r.inventory],
    ['recommendation', r.recommendation],
  ] as const) {
    t.equal(view.priceBefore, r.oldPrice, `${name} had the old price cached`);
    t.ok(view.nearBefore, `${name} held it in its near cache`);
    t.notOk(view.nearAfter, `${name} dropped its near copy`);
    t.equal(view.priceAfter, r.newPrice, `${name} reads the new price`);
    t.ok(view.invalidationMs >= 0, `${name} dropped it after the event (${view.invalidationMs.toFixed(1)} ms)`);
  }
  t.equal(r.databaseReads, 4, 'one load per service before the event and one after');
});

t.test('Example 4: the rolled-back transaction publishes nothing, the committed ones once each', async (t) => {
  const restore = quiet();
  const r = await transactionalOutbox().finally(restore);
  t.same(r.orders, [1, 3], 'the failed order is not in the database');
  t.same([...r.consumed].sort(), [1, 3], 'and no message for it was published');
  t.match(r.rolledBack.error, /out of stock/);
  t.same(r.outbox, { pending: 0, sent: 2, failed: 0 });
});

t.test('Example 5: forced redeliveries run the side effect exactly once per payment', async (t) => {
  const restore = quiet();
  const r = await idempotentConsumer(30).finally(restore);
  t.ok(r.deliveries >= 120, `every payment was delivered at least 4 times (${r.deliveries} deliveries)`);
  t.equal(r.sideEffects, 30, 'one credit per payment');
  t.equal(r.balance, r.expectedBalance);
  t.ok(r.skipped >= 60, `duplicates skipped (${r.skipped})`);
});

t.test('Example 6: the near cache serves the skewed reads, and a write drops every near copy', async (t) => {
  const restore = quiet();
  const r = await twoLevelCache(500, 3000).finally(restore);
  t.equal(r.nearHits + r.distributedHits + r.databaseCalls, r.reads);
  t.ok(r.nearHitRatio > 0.2, `near cache hit ratio ${r.nearHitRatio.toFixed(3)}`);
  t.ok(r.distributedHits > 0, `distributed hits ${r.distributedHits}`);
  t.ok(r.databaseCalls > 0 && r.databaseCalls <= 500, `at most one database call per product (${r.databaseCalls})`);
  t.ok(r.nearCopiesBefore >= 1, `near copies of ${r.hotKey} before the write: ${r.nearCopiesBefore}`);
  t.equal(r.nearCopiesAfter, 0, 'none after it');
  t.same(r.pricesAfter, [r.newPrice, r.newPrice, r.newPrice], 'every node reads the written row');
});
