import { isShoalError } from '@shoal/protocol';
import t from 'tap';
import type { ConsumedMessage } from '../../src/log/consumer.js';
import { eventually, startCluster } from '../cluster/helpers.js';

t.test('MessageLog append returns partition and offset; same key keeps order; every node reads it', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
  await a.log.createTopic('orders', { partitions: 4 });
  const receipts = [];
  for (let i = 0; i < 50; i++) receipts.push(await nodes[i % 3]?.log.append('orders', { n: i }, { key: 'customer-7' }));
  const partition = receipts[0]?.partition as number;
  t.ok(
    receipts.every((r) => r?.partition === partition),
    'one key, one partition',
  );
  t.same(
    receipts.map((r) => r?.offset),
    Array.from({ length: 50 }, (_, i) => i),
    'dense offsets in append order',
  );
  for (const n of [a, b, c]) {
    const records = await n.log.read('orders', partition, 0, 100);
    t.same(
      records.map((r) => (r.value as { n: number }).n),
      Array.from({ length: 50 }, (_, i) => i),
    );
  }
  // one synchronous run of appends to one key travels as one request: offsets follow the call order
  const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => c.log.append('orders', i, { key: 'k2' })));
  t.same(
    burst.map((r) => r.offset - (burst[0]?.offset as number)),
    Array.from({ length: 100 }, (_, i) => i),
    'a burst to one key keeps call order',
  );
  const all = await Promise.all(Array.from({ length: 200 }, (_, i) => b.log.append('orders', i)));
  t.ok(new Set(all.map((r) => r.partition)).size > 1, 'keyless messages spread over partitions');
});

t.test('MessageLog dedupes a retried append by producer id', async (t) => {
  const nodes = await startCluster(t, 3);
  const first = await nodes[0]?.log.append('payments', { amount: 5 }, { id: 'pay-1' });
  const again = await nodes[2]?.log.append('payments', { amount: 5 }, { id: 'pay-1' });
  t.equal(again?.offset, first?.offset);
  t.equal(again?.partition, first?.partition);
  t.equal(again?.duplicate, true);
  const records = await nodes[1]?.log.read('payments', first?.partition as number, 0, 10);
  t.equal(records?.length, 1, 'stored once');
});

t.test('MessageLog stores an id sent twice in one batch once; concurrent retries from two nodes agree', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  await a.log.createTopic('pay', { partitions: 2 });
  // one synchronous run: the three appends travel in one request
  const [first, twin, other] = await Promise.all([
    a.log.append('pay', 'x', { id: 'same' }),
    a.log.append('pay', 'x', { id: 'same' }),
    a.log.append('pay', 'y', { id: 'other' }),
  ]);
  t.equal(twin.offset, first.offset, 'the twin gets the first offset');
  t.same([first.duplicate, twin.duplicate, other.duplicate], [false, true, false]);
  const [fromA, fromB] = await Promise.all([
    a.log.append('pay', 'z', { id: 'raced' }),
    b.log.append('pay', 'z', { id: 'raced' }),
  ]);
  t.equal(fromA.offset, fromB.offset, 'two nodes retrying at once get one offset');
  t.equal([fromA, fromB].filter((r) => r.duplicate).length, 1, 'exactly one of them is the duplicate');
  const stored = [...(await a.log.read('pay', 0, 0, 100)), ...(await a.log.read('pay', 1, 0, 100))].map((r) => r.id);
  t.same(stored.sort(), ['other', 'raced', 'same'], 'each id stored once');
});

t.test('MessageLog followers hold key, id, headers and timestamp as the leader stored them', async (t) => {
  const nodes = await startCluster(t, 3);
  const [a] = nodes as [(typeof nodes)[0]];
  await a.log.createTopic('full', { partitions: 1 });
  const headers = { trace: 't-1', 'content-type': 'application/json' };
  await Promise.all([
    a.log.append('full', { n: 1 }, { key: 'k', id: 'i-1', headers }),
    a.log.append('full', null),
    a.log.append('full', [1, 'two'], { key: 'k' }),
  ]);
  const before = await a.log.read('full', 0, 0, 10);
  // the leader dies: the follower's copy is what the new leader serves
  const ring = await import('../../src/index.js').then(async (m) => {
    const table = a.partitionTable();
    return { table, partitioner: new m.Partitioner(table.partitionCount, await m.createXxHash32()) };
  });
  const leaderId = ring.table.owners[ring.partitioner.partitionOf('full\u00000')]?.[0];
  const leader = nodes.find((n) => n.id === leaderId);
  const survivors = nodes.filter((n) => n !== leader);
  await leader?.shutdown();
  const reader = survivors[0] as (typeof nodes)[0];
  let after: typeof before = [];
  await eventually(
    t,
    'the new leader serves the partition',
    async () => {
      after = await reader.log.read('full', 0, 0, 10).catch(() => []);
      return after.length === 3;
    },
    30_000,
  );
  t.same(
    after.map(({ size: _size, ...r }) => r),
    before.map(({ size: _size, ...r }) => r),
    'the same records, field for field',
  );
});

t.test('MessageLog consumer group delivers each message to one member, acks, and reports lag', async (t) => {
  const nodes = await startCluster(t, 3);
  await nodes[0]?.log.createTopic('jobs', { partitions: 3 });
  for (let i = 0; i < 90; i++) await nodes[i % 3]?.log.append('jobs', i);
  const seen = new Map<number, string>();
  const consumers = nodes.slice(0, 2).map((n) =>
    n.log.consume('jobs', { group: 'workers', from: 'earliest', concurrency: 4 }, (m: ConsumedMessage) => {
      if (seen.has(m.value as number)) t.fail(`duplicate ${String(m.value)}`);
      seen.set(m.value as number, n.id);
    }),
  );
  t.teardown(() => Promise.all(consumers.map((c) => c.close())));
  await eventually(t, 'all 90 consumed', () => seen.size === 90);
  await eventually(
    t,
    'lag drops to 0',
    async () => (await nodes[2]?.log.lag('jobs', 'workers'))?.every((p) => p.lag === 0) ?? false,
  );
  const lag = await nodes[2]?.log.lag('jobs', 'workers');
  t.equal(
    lag?.reduce((s, p) => s + p.endOffset, 0),
    90,
  );
});

t.test('MessageLog redelivers on throw and nack, then dead-letters after maxDeliveries', async (t) => {
  const nodes = await startCluster(t, 2);
  const a = nodes[0] as (typeof nodes)[0];
  await a.log.createTopic('flaky', { partitions: 1 });
  await a.log.append('flaky', 'sometimes');
  await a.log.append('flaky', 'never');
  await a.log.append('flaky', 'later');
  const attempts = new Map<string, number>();
  const done: string[] = [];
  const consumer = a.log.consume('flaky', { group: 'g', from: 'earliest', maxDeliveries: 3 }, (m) => {
    const n = (attempts.get(m.value as string) ?? 0) + 1;
    attempts.set(m.value as string, n);
    if (m.deliveries !== n) t.fail(`deliveries ${m.deliveries} != ${n}`);
    if (m.value === 'sometimes' && n < 2) throw new Error('transient');
    if (m.value === 'never') throw new Error('poison');
    if (m.value === 'later' && n === 1) return m.nack(20);
    done.push(m.value as string);
  });
  t.teardown(() => consumer.close());
  const dlq: ConsumedMessage[] = [];
  const dlqConsumer = nodes[1]?.log.consume('flaky.dlq', { group: 'ops', from: 'earliest' }, (m) => {
    dlq.push(m);
  });
  t.teardown(() => dlqConsumer?.close());
  await eventually(t, 'the poison message reaches the DLQ', () => dlq.length === 1, 30_000);
  await eventually(t, 'the others succeed', () => done.length === 2);
  t.same(done.sort(), ['later', 'sometimes']);
  t.equal(attempts.get('never'), 3, 'tried maxDeliveries times');
  t.equal(dlq[0]?.value, 'never');
  t.equal(dlq[0]?.headers['x-shoal-dlq-reason'], 'max-deliveries');
  t.match(dlq[0]?.headers['x-shoal-dlq-error'], /poison/);
});

t.test('MessageLog bad input gets typed errors', async (t) => {
  const nodes = await startCluster(t, 1);
  const n = nodes[0] as (typeof nodes)[0];
  const err = (p: Promise<unknown>) => p.catch((e: unknown) => e);
  t.ok(isShoalError(await err(n.log.append('bad topic!', 1)), 'SHOAL_ARGUMENT_INVALID'));
  t.ok(isShoalError(await err(n.log.append('t', undefined)), 'SHOAL_VALUE_INVALID'));
  t.ok(isShoalError(await err(n.log.append('t', 1, { acks: 'all' as never })), 'SHOAL_ARGUMENT_INVALID'));
  t.ok(isShoalError(await err(n.log.append('t', 1, { bogus: 1 } as never)), 'SHOAL_ARGUMENT_INVALID'));
  t.ok(isShoalError(await err(n.log.createTopic('t2', { partitions: 0 })), 'SHOAL_CONFIG_INVALID'));
  t.ok(isShoalError(await err(n.log.createTopic('t3', { retention: 1 } as never)), 'SHOAL_CONFIG_INVALID'));
  await n.log.createTopic('small', { maxMessageBytes: 100 });
  t.ok(isShoalError(await err(n.log.append('small', 'x'.repeat(500))), 'SHOAL_LOG_MESSAGE_TOO_LARGE'));
  t.throws(() => n.log.consume('t', { group: '' }, () => {}), { code: 'SHOAL_ARGUMENT_INVALID' });
});

t.test('MessageLog an oversized message fails only its own request, not others written with it', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a] = nodes as [(typeof nodes)[0]];
  await a.log.createTopic('tight', { partitions: 1, maxMessageBytes: 100 });
  const { Partitioner, createXxHash32 } = await import('../../src/index.js');
  const table = a.partitionTable();
  const leader =
    table.owners[new Partitioner(table.partitionCount, await createXxHash32()).partitionOf('tight\u00000')]?.[0];
  // from the other node: both requests reach the leader in one frame and are written together
  const producer = nodes.find((n) => n.id !== leader) as (typeof nodes)[0];
  const bad = producer.log.append('tight', 'x'.repeat(500));
  await Promise.resolve(); // a microtask checkpoint: the next append is another request
  const good = producer.log.append('tight', 'fits');
  const [badResult, goodResult] = await Promise.allSettled([bad, good]);
  t.equal(badResult.status, 'rejected');
  t.ok(
    badResult.status === 'rejected' && isShoalError(badResult.reason, 'SHOAL_LOG_MESSAGE_TOO_LARGE'),
    'the oversized message gets its typed error',
  );
  t.equal(goodResult.status, 'fulfilled', 'the message beside it is stored');
  t.same(
    (await a.log.read('tight', 0, 0, 10)).map((r) => r.value),
    ['fits'],
    'only the good one is in the log',
  );
});

t.test('MessageLog async iterator: acks on the next iteration, nack redelivers, break stops the member', async (t) => {
  const nodes = await startCluster(t, 1);
  const n = nodes[0] as (typeof nodes)[0];
  await n.log.createTopic('it', { partitions: 1 });
  for (let i = 0; i < 5; i++) await n.log.append('it', i);
  const got: string[] = [];
  let nacked = false;
  let brokeOn: unknown;
  const values = new Set<unknown>();
  for await (const m of n.log.messages('it', { group: 'g', from: 'earliest', concurrency: 1, ackTimeoutMs: 300 })) {
    got.push(`${String(m.value)}#${m.deliveries}`);
    values.add(m.value);
    if (m.value === 2 && !nacked) {
      nacked = true;
      m.nack(10);
      continue;
    }
    if ((values.size === 5 && got.includes('2#2')) || got.length > 20) {
      brokeOn = m.value;
      break; // leaving the loop does not ack: JS cannot tell a break from a throw in the body
    }
  }
  t.same(got.slice(0, 3), ['0#1', '1#1', '2#1']);
  t.ok(got.includes('2#2'), 'the nacked message came back');
  const again: unknown[] = [];
  for await (const m of n.log.messages('it', { group: 'g', from: 'earliest', ackTimeoutMs: 300 })) {
    again.push(m.value);
    m.ack();
    if (m.value === brokeOn || again.length > 5) break;
  }
  t.ok(again.includes(brokeOn), 'the message the loop left unacked is delivered to the next member');
  await eventually(t, 'commit reaches the end', async () => (await n.log.lag('it', 'g'))[0]?.lag === 0);
});

t.test('Consumer reports failures through an error listener without crashing', async (t) => {
  const nodes = await startCluster(t, 2, { requestTimeoutMs: 300 });
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  await a.log.createTopic('errs', { partitions: 4 });
  const errors: Error[] = [];
  const consumer = a.log.consume('errs', { group: 'g', from: 'earliest' }, () => {});
  consumer.on('error', (err) => errors.push(err));
  t.teardown(() => consumer.close());
  await b.shutdown(); // fetches to the partitions b led fail until a takes over: reported, retried, no crash
  await eventually(t, 'an error was reported', () => errors.length > 0);
  t.ok(
    errors.every((e) => typeof (e as { code?: string }).code === 'string'),
    'typed errors',
  );
});

t.test(
  'MessageLog lease extension keeps a slow message from being redelivered; replay delivers again from an offset',
  async (t) => {
    const nodes = await startCluster(t, 2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await a.log.createTopic('slow', { partitions: 1 });
    for (let i = 0; i < 3; i++) await a.log.append('slow', i);
    const seen: string[] = [];
    const consumer = b.log.consume('slow', { group: 'g', from: 'earliest', ackTimeoutMs: 200 }, async (m) => {
      seen.push(`${String(m.value)}#${m.deliveries}`);
      if (m.value === 0) {
        for (let i = 0; i < 4; i++) {
          await m.extend(200);
          await new Promise((r) => setTimeout(r, 100)); // 400 ms in all: twice the lease
        }
      }
    });
    t.teardown(() => consumer.close());
    await eventually(t, 'all three done', async () => (await a.log.lag('slow', 'g'))[0]?.lag === 0);
    t.same(
      seen.filter((s) => s.startsWith('0#')),
      ['0#1'],
      'the extended message was not redelivered',
    );
    await a.log.replay('slow', 'g', { offset: 1 });
    await eventually(
      t,
      'replayed from offset 1',
      () => seen.includes('1#1') && seen.filter((s) => s.startsWith('1#')).length === 2,
    );
    t.notOk(seen.filter((s) => s.startsWith('0#')).length > 1, 'offset 0 was not replayed');
    await t.rejects(a.log.replay('slow', 'g', { offset: -1 }), { code: 'SHOAL_ARGUMENT_INVALID' });
  },
);
