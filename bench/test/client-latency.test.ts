import { connect as tcpConnect } from 'node:net';
import { createNode } from '@shoal/node';
import t from 'tap';
import WebSocket from 'ws';
import { startEchoFloor } from '../src/lib/echo-floor-server.js';
import { clientLatency, floorReplyBytes } from '../src/scenarios/client-latency-task.js';

t.test('the echo floor answers every ws message and every TCP read with a reply of the configured size', async (t) => {
  const floor = await startEchoFloor(108);
  t.teardown(() => floor.close());

  const ws = new WebSocket(`ws://127.0.0.1:${floor.ws}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const wsReplies: number[] = [];
  ws.on('message', (data: Buffer) => wsReplies.push(data.length));
  for (let i = 0; i < 3; i++) {
    const answered = new Promise((resolve) => ws.once('message', resolve));
    ws.send(Buffer.alloc(30));
    await answered;
  }
  t.same(wsReplies, [108, 108, 108]);
  ws.terminate();

  const socket = tcpConnect(floor.tcp, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  socket.write(Buffer.alloc(30));
  const deadline = Date.now() + 5000;
  while (bytes < 108 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  t.equal(bytes, 108);
  socket.destroy();
});

t.test('the interleaved latency task measures Shoal and both floors, every sample taken', async (t) => {
  const node = await createNode({ port: 0, nodeId: 'lat', membership: 'local', antiEntropyIntervalMs: 0 });
  t.teardown(() => node.shutdown());
  const floor = await startEchoFloor(floorReplyBytes(100));
  t.teardown(() => floor.close());

  const result = await clientLatency({
    shoalUrl: `ws://${node.address}`,
    redisPort: null,
    floor: { ws: floor.ws, tcp: floor.tcp },
    keys: 200,
    valueBytes: 100,
    gets: 600,
    block: 50,
    warmupGets: 100,
    maxMs: 30_000,
  });
  t.equal(result.errors, 0, String(result.firstError));
  t.same(Object.keys(result.subjects).sort(), ['shoal', 'tcp-floor', 'ws-floor']);
  for (const [name, s] of Object.entries(result.subjects)) {
    t.equal(s.samples, 600, `${name}: every sample`);
    t.equal(s.quantilesUs.length, 102, `${name}: quantiles 0..100 and 99.9`);
    t.ok(s.p50Us > 0 && s.p50Us <= s.p90Us && s.p90Us <= s.p99Us && s.p99Us <= s.p999Us, `${name}: ordered`);
    t.equal(s.quantilesUs[50], s.p50Us);
  }
  // the node served the task's gets: its keys were written through the client and read back
  t.equal(await node.cache.get('key:7'), 'v'.repeat(100));
});
