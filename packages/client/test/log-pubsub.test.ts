/**
 * Log and pub/sub through the client against in-process nodes: appends,
 * reads, consumer groups with ack and redelivery, subscriptions, and a
 * consumer that keeps going through a dropped connection (a TCP proxy the
 * test cuts) without losing or repeating a message.
 */
import { createNode, type ShoalNode } from '@shoal/node';
import t, { type Test } from 'tap';
import { connect, type ShoalClient } from '../src/index.js';
import { proxy } from './in-process.js';

async function eventually(t: Test, what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      t.fail(`timed out waiting for: ${what}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function startNode(t: Test): Promise<ShoalNode> {
  const node = await createNode({ port: 0, nodeId: 'n0', membership: 'local', antiEntropyIntervalMs: 0 });
  t.teardown(() => node.shutdown());
  return node;
}

async function open(t: Test, url: string): Promise<ShoalClient> {
  const client = await connect({ nodes: [url], timeout: 5000 });
  t.teardown(() => client.close());
  return client;
}

t.test('Client log: append, read and a consumer group with ack and redelivery, as embedded', async (t) => {
  const node = await startNode(t);
  const client = await open(t, `ws://${node.address}`);
  await client.log.createTopic('orders', { partitions: 2 });
  const receipts = await Promise.all(
    Array.from({ length: 20 }, (_, i) => client.log.append('orders', { n: i }, { key: `k${i % 4}`, id: `o${i}` })),
  );
  t.equal(receipts.length, 20);
  const again = await client.log.append('orders', { n: 0 }, { key: 'k0', id: 'o0' });
  t.equal(again.duplicate, true, 'a retried id is stored once');
  const stored = [...(await client.log.read('orders', 0, 0, 100)), ...(await client.log.read('orders', 1, 0, 100))];
  t.same(
    stored.map((r) => (r.value as { n: number }).n).sort((a, b) => a - b),
    [...Array(20).keys()],
  );
  const embedded = await node.log.read('orders', 0, 0, 100);
  t.equal(embedded.length, (await client.log.read('orders', 0, 0, 100)).length);

  const seen = new Map<number, number>();
  let failedOnce = false;
  const consumer = client.log.consume('orders', { group: 'billing', from: 'earliest' }, (m) => {
    const n = (m.value as { n: number }).n;
    seen.set(n, (seen.get(n) ?? 0) + 1);
    if (n === 7 && !failedOnce) {
      failedOnce = true;
      throw new Error('first attempt fails'); // redelivered with backoff, as embedded
    }
  });
  await eventually(t, 'every message handled', () => seen.size === 20);
  await eventually(t, 'the failed message redelivered', () => seen.get(7) === 2);
  await eventually(t, 'the group has no lag', async () =>
    (await node.log.lag('orders', 'billing')).every((p) => p.lag === 0 && p.unacked === 0),
  );
  t.equal([...seen.values()].filter((c) => c > 1).length, 1, 'only the failed message came twice');
  t.equal(consumer.counters.nacked, 1);
  await consumer.close();
});

t.test('Client pub/sub: subscribe through the client, publish from the node and from another client', async (t) => {
  const node = await startNode(t);
  const a = await open(t, `ws://${node.address}`);
  const b = await open(t, `ws://${node.address}`);
  const got: [unknown, string][] = [];
  const unsubscribe = a.pubsub.subscribe('prices.*', (message, channel) => got.push([message, channel]));
  await unsubscribe.ready;
  await node.pubsub.publish('prices.eur', 1);
  t.equal(await b.pubsub.publish('prices.usd', 2), 1, 'one node had subscribers');
  await eventually(t, 'both messages arrive', () => got.length === 2);
  t.same(got, [
    [1, 'prices.eur'],
    [2, 'prices.usd'],
  ]);
  unsubscribe();
  await eventually(t, 'the node forgets the subscription', async () => (await b.pubsub.publish('prices.x', 3)) === 0);
});

t.test('Client consumer survives a dropped connection without losing or repeating a message', async (t) => {
  const node = await startNode(t);
  const link = await proxy(t, node.address);
  const client = await open(t, link.url);
  const events: string[] = [];
  client.on('disconnect', () => events.push('disconnect'));
  client.on('connect', () => events.push('connect'));
  const producer = await open(t, `ws://${node.address}`);
  await producer.log.createTopic('jobs', { partitions: 2 });
  const seen = new Map<number, number>();
  const consumer = client.log.consume('jobs', { group: 'workers', from: 'earliest', ackTimeoutMs: 3000 }, async (m) => {
    const n = m.value as number;
    seen.set(n, (seen.get(n) ?? 0) + 1);
  });
  for (let i = 0; i < 100; i++) await producer.log.append('jobs', i);
  await eventually(t, 'first half handled', () => seen.size === 100);
  link.cut();
  await eventually(t, 'the client saw the drop', () => events.includes('disconnect'));
  for (let i = 100; i < 200; i++) await producer.log.append('jobs', i);
  await eventually(t, 'every message handled after the drop', () => seen.size === 200, 20_000);
  await eventually(t, 'the group has no lag and nothing unacked', async () =>
    (await node.log.lag('jobs', 'workers')).every((p) => p.lag === 0 && p.unacked === 0),
  );
  t.same(
    [...seen.entries()].filter(([, c]) => c > 1),
    [],
    'no message handled twice',
  );
  // the control connection failed over to the direct connection the client already had to n0
  t.same(client.connectedNodes(), ['n0'], `events: ${events.join(',')}`);
  await consumer.close();
});

t.test('Client calls on a connection that stopped answering end at their own timeouts', async (t) => {
  const node = await startNode(t);
  const link = await proxy(t, node.address);
  const client = await connect({ nodes: [link.url], timeout: 2000 });
  t.teardown(() => client.close());
  await client.log.createTopic('stalled', { partitions: 1 });
  link.freeze();
  const started = Date.now();
  const timed = async (timeout: number) => {
    const err = await client.log.append('stalled', 1, {}, { timeout }).catch((e: unknown) => e);
    return { code: (err as { code?: string }).code, ms: Date.now() - started };
  };
  // the longer call first: the shorter one cannot wait for the shared sweep and gets its own timer
  const [long, short, byDefault] = await Promise.all([timed(900), timed(300), timed(2000)]);
  for (const [name, r, budget] of [
    ['long', long, 900],
    ['short', short, 300],
    ['default', byDefault, 2000],
  ] as const) {
    t.equal(r.code, 'SHOAL_REQUEST_TIMEOUT', name);
    t.ok(r.ms >= budget - 20 && r.ms < budget + 1000, `${name} ended after ${r.ms} ms (budget ${budget})`);
  }
});
