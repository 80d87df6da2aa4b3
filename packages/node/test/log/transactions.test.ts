import t from 'tap';
import { eventually, startCluster } from '../cluster/helpers.js';

t.test('Half messages: invisible until commit, gone on rollback, commit retried is deduplicated', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  await a.log.createTopic('tx', { partitions: 1 });
  const seen: unknown[] = [];
  const consumer = b.log.consume('tx', { group: 'g', from: 'earliest' }, (m) => {
    seen.push(m.value);
  });
  t.teardown(() => consumer.close());
  const keep = await a.log.prepare('tx', 'kept');
  const drop = await a.log.prepare('tx', 'dropped');
  t.equal((await b.log.read('tx', 0, 0, 10)).length, 0, 'prepared messages are invisible');
  const receipt = await keep.commit();
  await drop.rollback();
  await drop.rollback();
  await eventually(t, 'the committed message is delivered', () => seen.length === 1);
  t.same(seen, ['kept']);
  t.equal(receipt.offset, 0);
  await t.rejects(keep.commit(), { code: 'SHOAL_ARGUMENT_INVALID' }, 'a resolved transaction cannot commit again');
  t.equal((await b.log.read('tx', 0, 0, 10)).length, 1);
});

t.test('Half messages: a pending one past its timeout is resolved by the check-back callback', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  await a.log.createTopic('orders', { partitions: 1 });
  // the "database": which business transactions committed
  const committedOrders = new Set(['o-1']);
  const asked: string[] = [];
  b.log.onCheck('orders', (m) => {
    asked.push((m.value as { order: string }).order);
    const order = (m.value as { order: string }).order;
    if (order === 'o-3') return 'unknown';
    return committedOrders.has(order) ? 'commit' : 'rollback';
  });
  await a.log.prepare('orders', { order: 'o-1' }, { timeoutMs: 1 });
  await a.log.prepare('orders', { order: 'o-2' }, { timeoutMs: 1 });
  await a.log.prepare('orders', { order: 'o-3' }, { timeoutMs: 1 });
  await a.log.prepare('orders', { order: 'o-4' }, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 5));
  t.equal(await b.log.checkTransactions(), 2, 'two resolved: one commit, one rollback');
  t.same(asked.sort(), ['o-1', 'o-2', 'o-3'], 'the not-yet-overdue one was not asked');
  const records = await a.log.read('orders', 0, 0, 10);
  t.same(
    records.map((r) => r.value),
    [{ order: 'o-1' }],
  );
  t.equal(await b.log.checkTransactions(), 0, "'unknown' keeps it pending (asked again after its timeout)");
});
