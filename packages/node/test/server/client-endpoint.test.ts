/**
 * The `/v1/client` endpoint spoken to with raw frames over a real socket:
 * auth on the upgrade, the hello, cache ops and their typed errors, table
 * pushes, the per-connection in-flight bound, malformed input (never a crash);
 * and the protocol's partition function against the node's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeFrame,
  encodeFrame,
  type LogApi,
  MessageKind,
  type PubSubApi,
  partitionOf,
  type WireMessage,
} from '@shoal/protocol';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { createXxHash32, Partitioner, type ShoalNode } from '../../src/index.js';
import { ClientEndpoint } from '../../src/server/client-endpoint.js';
import { startCluster } from '../cluster/helpers.js';

/** A raw client: sends frames, collects every message received. */
async function raw(t: Test, url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const received: WireMessage[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('message', (data: Buffer) => received.push(...decodeFrame(data)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  t.teardown(() => ws.terminate());
  let nextId = 1;
  const request = async (kind: number, body: unknown): Promise<WireMessage> => {
    const id = nextId++;
    ws.send(encodeFrame([[kind, id, body]]));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const reply = received.find((m) => m[1] === id && m[0] <= 1);
      if (reply !== undefined) return reply;
      if (Date.now() > deadline) throw new Error(`no reply to ${kind}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { ws, received, closed, request, nextId: () => nextId++ };
}

const url = (node: ShoalNode) => `ws://${node.address}/v1/client`;
const code = (m: WireMessage) => (m[2] as { code: string }).code;

t.test('ClientEndpoint hello returns the node id and the partition table with addresses', async (t) => {
  const nodes = await startCluster(t, 2);
  const c = await raw(t, url(nodes[0] as ShoalNode));
  const [kind, , body] = await c.request(MessageKind.ClientHello, [1]);
  t.equal(kind, MessageKind.ReplyOk);
  const hello = body as { nodeId: string; protocol: number; table: Record<string, unknown> };
  t.equal(hello.nodeId, 'n0');
  t.equal(hello.protocol, 1);
  const table = hello.table as {
    id: number;
    partitionCount: number;
    owners: string[][];
    addresses: Record<string, string>;
  };
  t.equal(table.partitionCount, 271);
  t.same(table.owners, (nodes[0] as ShoalNode).partitionTable().owners);
  t.same(table.addresses, { n0: (nodes[0] as ShoalNode).address, n1: (nodes[1] as ShoalNode).address });
  const other = await raw(t, url(nodes[1] as ShoalNode));
  const [, , body1] = await other.request(MessageKind.ClientHello, [1]);
  t.equal((body1 as { table: { id: number } }).table.id, table.id, 'the same table has the same id on every node');
  const [k2, , e2] = await c.request(MessageKind.ClientHello, [99]);
  t.equal(k2, MessageKind.ReplyError);
  t.equal((e2 as { code: string }).code, 'SHOAL_PROTOCOL_INVALID');
});

t.test('ClientEndpoint runs cache ops through node routing and answers typed errors', async (t) => {
  const nodes = await startCluster(t, 2);
  const node = nodes[0] as ShoalNode;
  const c = await raw(t, url(node));
  const [, , hello] = await c.request(MessageKind.ClientHello, [1]);
  const id = (hello as { table: { id: number } }).table.id;
  for (let i = 0; i < 20; i++) {
    const reply = await c.request(MessageKind.ClientCache, ['set', [`k${i}`, i, null], null, id]);
    t.equal(reply[0], MessageKind.ReplyOk);
  }
  t.same((await c.request(MessageKind.ClientCache, ['get', ['k7'], 'quorum', id]))[2], 7);
  t.equal(await (nodes[1] as ShoalNode).cache.get('k7'), 7, 'visible cluster-wide');
  await node.cache.hset('h', 'f', 1);
  t.equal(code(await c.request(MessageKind.ClientCache, ['get', ['h'], null, id])), 'SHOAL_STORE_WRONG_TYPE');
  t.equal(code(await c.request(MessageKind.ClientCache, ['nope', ['k'], null, id])), 'SHOAL_PROTOCOL_INVALID');
  t.equal(code(await c.request(MessageKind.ClientCache, ['get', [42], null, id])), 'SHOAL_KEY_INVALID');
  t.equal(code(await c.request(MessageKind.ClientCache, ['get', ['k'], 'most', id])), 'SHOAL_ARGUMENT_INVALID');
  t.equal(code(await c.request(MessageKind.ClientCache, ['get'])), 'SHOAL_PROTOCOL_INVALID');
  t.equal(code(await c.request(MessageKind.ClientCache, 'get')), 'SHOAL_PROTOCOL_INVALID');
  t.equal(code(await c.request(39, null)), 'SHOAL_PROTOCOL_UNKNOWN_KIND');
  t.equal(
    code(await c.request(MessageKind.ClientLogTake, ['t', -1, 'g', 'm', 1, 'latest', {}, 10])),
    'SHOAL_ARGUMENT_INVALID',
  );
  const stats = (await c.request(MessageKind.ClientStats, null))[2] as { cacheOps: number; connections: number };
  t.equal(stats.connections, 1);
  t.ok(stats.cacheOps >= 21);
});

t.test('ClientEndpoint pushes its table to a client whose table differs, once', async (t) => {
  const nodes = await startCluster(t, 1);
  const c = await raw(t, url(nodes[0] as ShoalNode));
  await c.request(MessageKind.ClientCache, ['set', ['a', 1, null], null, 12345]);
  await c.request(MessageKind.ClientCache, ['set', ['b', 1, null], null, 12345]);
  const pushes = c.received.filter((m) => m[0] === MessageKind.ClientTopology);
  t.equal(pushes.length, 1, 'one push for a stale client, not one per request');
  t.equal(pushes[0]?.[1], 0, 'a push is one-way');
  t.same((pushes[0]?.[2] as { owners: unknown } | undefined)?.owners, (nodes[0] as ShoalNode).partitionTable().owners);
});

t.test('ClientEndpoint refuses upgrades without the bearer token', async (t) => {
  const nodes = await startCluster(t, 1, { token: 'client-token-1' });
  const refused = await new Promise<{ status: number; body: string }>((resolve) => {
    const ws = new WebSocket(url(nodes[0] as ShoalNode), { headers: { authorization: 'Bearer wrong-token' } });
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
  t.equal(refused.status, 401);
  t.equal((JSON.parse(refused.body) as { code: string }).code, 'SHOAL_AUTH_FAILED');
  const c = await raw(t, url(nodes[0] as ShoalNode), { authorization: 'Bearer client-token-1' });
  t.equal((await c.request(MessageKind.ClientHello, [1]))[0], MessageKind.ReplyOk);
});

t.test('ClientEndpoint closes a connection that sends a malformed frame; the node keeps serving', async (t) => {
  const nodes = await startCluster(t, 1);
  for (const bad of [Buffer.from([0xc1, 0xff, 0x00]), encodeFrame([]), Buffer.from('not msgpack at all')]) {
    const c = await raw(t, url(nodes[0] as ShoalNode));
    c.ws.send(bad);
    const { code: closeCode, reason } = await c.closed;
    t.equal(closeCode, 1007);
    t.match(reason, /^SHOAL_PROTOCOL_/);
  }
  const text = await raw(t, url(nodes[0] as ShoalNode));
  text.ws.send('hello');
  t.equal((await text.closed).code, 1007);
  const c = await raw(t, url(nodes[0] as ShoalNode));
  t.equal((await c.request(MessageKind.ClientHello, [1]))[0], MessageKind.ReplyOk, 'still serving');
});

t.test('ClientEndpoint bounds the requests one connection has in progress', async (t) => {
  const nodes = await startCluster(t, 1);
  const node = nodes[0] as ShoalNode;
  await node.log.createTopic('polls', { partitions: 1 });
  const endpoint = new ClientEndpoint(() => node, {
    token: undefined,
    maxFrameBytes: 1 << 20,
    maxInFlight: 5,
    topologyCheckMs: 100,
  });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => endpoint.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    endpoint.close();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const c = await raw(t, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/client`);
  const settings = { ackTimeoutMs: 30_000, maxDeliveries: 5, maxUnacked: 1000 };
  const frame: WireMessage[] = Array.from({ length: 8 }, (_, i) => [
    MessageKind.ClientLogTake,
    100 + i,
    ['polls', 0, 'g', `m${i}`, 1, 'latest', settings, 300],
  ]);
  c.ws.send(encodeFrame(frame));
  const deadline = Date.now() + 10_000;
  while (c.received.filter((m) => m[1] >= 100).length < 8 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const replies = c.received.filter((m) => m[1] >= 100);
  t.equal(replies.filter((m) => m[0] === MessageKind.ReplyOk).length, 5, 'five long polls ran');
  const refused = replies.filter((m) => m[0] === MessageKind.ReplyError);
  t.equal(refused.length, 3);
  t.ok(refused.every((m) => code(m) === 'SHOAL_TRANSPORT_BACKPRESSURE'));
});

t.test('Protocol partitionOf matches the node partitioner on every kind of key', async (t) => {
  const hash = await createXxHash32();
  const partitioner = new Partitioner(271, hash);
  const keys = ['', 'a', 'user:1', 'ключ', '键值', '🐟🐟', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(5000)];
  for (let i = 0; i < 5000; i++) keys.push(`k:${i}:${Math.random().toString(36)}${'é'.repeat(i % 40)}`);
  const mismatches = keys.filter((k) => partitionOf(k, 271) !== partitioner.partitionOf(k));
  t.same(mismatches, []);
  const other = new Partitioner(1024, hash);
  t.equal(keys.filter((k) => partitionOf(k, 1024) !== other.partitionOf(k)).length, 0);
});

t.test('node.log and node.pubsub satisfy the shared LogApi and PubSubApi', async (t) => {
  const nodes = await startCluster(t, 1);
  const log: LogApi = (nodes[0] as ShoalNode).log;
  const pubsub: PubSubApi = (nodes[0] as ShoalNode).pubsub;
  await log.createTopic('typed', { partitions: 1 });
  const receipt = await log.append('typed', { ok: true });
  t.equal(receipt.offset, 0);
  t.equal(await pubsub.publish('nobody', 1), 0);
});
