import { isShoalError, MessageKind } from '@shoal/protocol';
import t from 'tap';
import type { PeerTransport } from '../../src/transport/peer-transport.js';
import { eventually, startCluster } from '../cluster/helpers.js';

t.test('PubSub fan-out reaches subscribers on every node, exact and pattern', async (t) => {
  const nodes = await startCluster(t, 3);
  const got: string[] = [];
  for (const [i, n] of nodes.entries()) {
    n.pubsub.subscribe('orders', (m, c) => got.push(`${n.id}:${c}:${String(m)}:${i}`));
  }
  nodes[2]?.pubsub.subscribe('orders.*', (m, c) => got.push(`pattern:${c}:${String(m)}`));
  // interest sets travel asynchronously: wait until the publisher knows about everyone
  await eventually(t, 'interest reaches n0', async () => (await nodes[0]?.pubsub.publish('probe', 0)) === 0);
  await eventually(t, 'n0 sees all three nodes interested', async () => {
    got.length = 0;
    return (await nodes[0]?.pubsub.publish('orders', 'warmup')) === 3;
  });
  got.length = 0;
  t.equal(await nodes[0]?.pubsub.publish('orders', 'o1'), 3, 'delivered to 3 nodes');
  t.same(got.sort(), ['n0:orders:o1:0', 'n1:orders:o1:1', 'n2:orders:o1:2']);
  got.length = 0;
  t.equal(await nodes[1]?.pubsub.publish('orders.eu', 'o2'), 1, 'only the pattern subscriber node');
  t.same(got, ['pattern:orders.eu:o2']);
});

t.test('PubSub sends only to interested nodes and stops after unsubscribe', async (t) => {
  const nodes = await startCluster(t, 3);
  const got: unknown[] = [];
  const off = nodes[1]?.pubsub.subscribe('prices', (m) => got.push(m)) as () => void;
  await eventually(t, 'n0 knows n1 is interested', async () => (await nodes[0]?.pubsub.publish('prices', 'x')) === 1);
  const before = nodes[2]?.pubsub.counters.received ?? 0;
  for (let i = 0; i < 50; i++) await nodes[0]?.pubsub.publish('prices', i);
  t.equal(nodes[2]?.pubsub.counters.received, before, 'the uninterested node received nothing');
  t.ok(got.length >= 50);
  off();
  off();
  await eventually(t, 'n0 learns n1 unsubscribed', async () => (await nodes[0]?.pubsub.publish('prices', 'y')) === 0);
});

t.test('PubSub rejects bad channels and keeps delivering when a handler throws', async (t) => {
  const nodes = await startCluster(t, 1);
  const n = nodes[0] as (typeof nodes)[0];
  const errors: string[] = [];
  n.on('warning', (m) => errors.push(m));
  const got: unknown[] = [];
  n.pubsub.subscribe('c', () => {
    throw new Error('boom');
  });
  n.pubsub.subscribe('c', (m) => got.push(m));
  t.equal(await n.pubsub.publish('c', { a: 1 }), 1);
  t.same(got, [{ a: 1 }]);
  t.same(errors, ['a subscriber threw']);
  for (const bad of ['', 'x'.repeat(2000), 42]) {
    t.ok(isShoalError(await n.pubsub.publish(bad as string, 1).catch((e: unknown) => e), 'SHOAL_ARGUMENT_INVALID'));
  }
  t.ok(
    isShoalError(await n.pubsub.publish('a*', 1).catch((e: unknown) => e), 'SHOAL_ARGUMENT_INVALID'),
    'no publish to a pattern',
  );
  t.ok(isShoalError(await n.pubsub.publish('c', undefined).catch((e: unknown) => e), 'SHOAL_VALUE_INVALID'));
  t.throws(() => n.pubsub.subscribe('c', 'nope' as never), { code: 'SHOAL_ARGUMENT_INVALID' });
});

t.test('PubSub sends one synchronous run of publishes to a node as one batch, in order', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const got: unknown[] = [];
  b.pubsub.subscribe('ticks', (m) => got.push(m));
  await eventually(t, 'a knows b is interested', async () => (await a.pubsub.publish('ticks', -1)) === 1);
  got.length = 0;
  const before = a.pubsub.counters.sentToNodes;
  const framesBefore = (await a.transportCounters()).messagesOut;
  const counts = await Promise.all(Array.from({ length: 300 }, (_, i) => a.pubsub.publish('ticks', i)));
  const messages = (await a.transportCounters()).messagesOut - framesBefore;
  t.same(
    counts,
    Array.from({ length: 300 }, () => 1),
    'each publish resolves with the nodes it reached',
  );
  t.same(
    got,
    Array.from({ length: 300 }, (_, i) => i),
    'delivered once each, in publish order',
  );
  t.equal(a.pubsub.counters.sentToNodes - before, 300);
  // one PublishBatch request (gossip may add a few of its own meanwhile), not 300 requests
  t.ok(messages < 20, `${messages} peer messages for 300 publishes`);
  // a longer burst leaves in batches of at most 1000, still in order
  got.length = 0;
  const burst = await Promise.all(Array.from({ length: 2500 }, (_, i) => a.pubsub.publish('ticks', i)));
  t.ok(
    burst.every((n) => n === 1),
    'a burst of 2500 reached b',
  );
  t.same(
    got,
    Array.from({ length: 2500 }, (_, i) => i),
  );
});

t.test('PubSub refuses a malformed batch whole: nothing of it is delivered', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const got: unknown[] = [];
  b.pubsub.subscribe('c', (m) => got.push(m));
  const transport = (a as unknown as { transport: PeerTransport }).transport;
  for (const bad of [
    { not: 'a list' },
    [['c', 1], ['c']],
    [
      ['c', 1],
      [42, 2],
    ],
    [['c', 1], 'c'],
  ]) {
    const err = await transport.request(b.address, MessageKind.PublishBatch, bad, 2000).catch((e: unknown) => e);
    t.ok(isShoalError(err, 'SHOAL_PROTOCOL_INVALID'), `${JSON.stringify(bad)}: ${String(err)}`);
  }
  t.same(got, [], 'no message of a refused batch was delivered');
  t.equal(
    await transport.request(
      b.address,
      MessageKind.PublishBatch,
      [
        ['c', 'ok'],
        ['other', 1],
      ],
      2000,
    ),
    1,
  );
  t.same(got, ['ok']);
});

t.test('PubSub falls back to one Publish per message for a node without PublishBatch', async (t) => {
  const nodes = await startCluster(t, 2);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const got: unknown[] = [];
  b.pubsub.subscribe('legacy', (m) => got.push(m));
  await eventually(t, 'a knows b is interested', async () => (await a.pubsub.publish('legacy', -1)) === 1);
  got.length = 0;
  // b as a node of an earlier version: it answers PublishBatch with SHOAL_PROTOCOL_UNKNOWN_KIND
  const handlers = (b as unknown as { transport: { handlers: Map<number, unknown> } }).transport.handlers;
  handlers.delete(MessageKind.PublishBatch);
  const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => a.pubsub.publish('legacy', i)));
  t.same(
    counts,
    Array.from({ length: 20 }, () => 1),
    'every publish still reached b',
  );
  t.same(
    got,
    Array.from({ length: 20 }, (_, i) => i),
    'in order',
  );
});
