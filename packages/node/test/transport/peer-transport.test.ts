import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isShoalError, ShoalError } from '@shoal/protocol';
import t, { type Test } from 'tap';
import { WebSocket } from 'ws';
import { systemClock } from '../../src/store/clock.js';
import { PeerTransport, type PeerTransportOptions } from '../../src/transport/peer-transport.js';

const ECHO = 10;
const FAIL = 11;
const SLOW = 12;

/** A real HTTP server on 127.0.0.1:0 with a PeerTransport on /peer. */
async function startPeer(t: Test, id: string, options: Partial<PeerTransportOptions> = {}) {
  const server: Server = createServer((_req, res) => res.end('http'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const warnings: string[] = [];
  const transport = new PeerTransport({
    nodeId: id,
    address,
    maxFrameBytes: 1024 * 1024,
    maxMessagesPerFrame: 10_000,
    maxInFlight: 10_000,
    connectTimeoutMs: 2000,
    maxClockSkewMs: 30_000,
    clock: systemClock,
    onWarning: (message, details) => warnings.push(`${message}: ${String(details.reason ?? details.code)}`),
    ...options,
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/peer') transport.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  transport.handle(ECHO, (body) => body);
  transport.handle(FAIL, () => {
    throw new ShoalError('SHOAL_STORE_WRONG_TYPE', 'nope', { why: 'test' });
  });
  transport.handle(SLOW, async (body) => new Promise((resolve) => setTimeout(() => resolve(body), 50)));
  t.teardown(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { transport, address, server, warnings };
}

t.test('PeerTransport request gets the reply, sync and async, over a real socket', async (t) => {
  const a = await startPeer(t, 'a');
  const b = await startPeer(t, 'b');
  t.same(await a.transport.request(b.address, ECHO, { hello: [1, 'x'] }, 1000), { hello: [1, 'x'] });
  t.same(await a.transport.request(b.address, SLOW, 'later', 1000), 'later');
  const bytes = Buffer.from([1, 2, 3]);
  t.same(Buffer.from((await a.transport.request(b.address, ECHO, bytes, 1000)) as Uint8Array), bytes);
});

t.test('A one-way message whose async handler fails is dropped, not an unhandled rejection', async (t) => {
  const a = await startPeer(t, 'a');
  const b = await startPeer(t, 'b');
  const ASYNC_FAIL = 13;
  let ran = 0;
  b.transport.handle(ASYNC_FAIL, async () => {
    ran++;
    throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'refused later');
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  a.transport.send(b.address, ASYNC_FAIL, 'one-way');
  // a request after it on the same socket: once answered, the one-way message has been handled
  t.same(await a.transport.request(b.address, ECHO, 'after', 1000), 'after');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(ran, 1, 'the handler ran');
  t.same(unhandled, [], 'no unhandled rejection');
  t.same(await a.transport.request(b.address, ECHO, 'still serving', 1000), 'still serving');
});

t.test('PeerTransport batches every request of one tick into one frame', async (t) => {
  const a = await startPeer(t, 'a');
  const b = await startPeer(t, 'b');
  await a.transport.request(b.address, ECHO, 0, 1000);
  const connection = await a.transport.connection(b.address);
  const before = { ...connection.counters };
  const replies = await Promise.all(
    Array.from({ length: 500 }, (_, i) => a.transport.request(b.address, ECHO, i, 2000)),
  );
  t.same(
    replies,
    Array.from({ length: 500 }, (_, i) => i),
  );
  t.equal(connection.counters.framesOut - before.framesOut, 1, '500 requests left in one frame');
  t.equal(connection.counters.messagesOut - before.messagesOut, 500);
  t.ok(connection.counters.framesIn - before.framesIn <= 2, 'replies came back batched too');
});

t.test('PeerTransport carries typed errors, unknown kinds and timeouts back to the caller', async (t) => {
  const a = await startPeer(t, 'a');
  const b = await startPeer(t, 'b');
  const err = await a.transport.request(b.address, FAIL, null, 1000).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_STORE_WRONG_TYPE'));
  t.same((err as ShoalError).details, { why: 'test' });
  const unknown = await a.transport.request(b.address, 99, null, 1000).catch((e: unknown) => e);
  t.ok(isShoalError(unknown, 'SHOAL_PROTOCOL_UNKNOWN_KIND'));
  const timeout = await a.transport.request(b.address, SLOW, null, 5).catch((e: unknown) => e);
  t.ok(isShoalError(timeout, 'SHOAL_TRANSPORT_TIMEOUT'));
  t.same(await a.transport.request(b.address, ECHO, 'still fine', 1000), 'still fine');
});

t.test('PeerTransport closes a connection sending a malformed frame and keeps serving others', async (t) => {
  const b = await startPeer(t, 'b');
  const raw = new WebSocket(`ws://${b.address}/peer`, {
    headers: { 'x-shoal-node-id': 'rogue', 'x-shoal-node-address': '127.0.0.1:1' },
  });
  await new Promise((resolve) => raw.once('open', resolve));
  const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
  raw.send(Buffer.from([0xc1, 0xff, 0x00]));
  t.equal(await closed, 1007);
  const raw2 = new WebSocket(`ws://${b.address}/peer`, {
    headers: { 'x-shoal-node-id': 'rogue', 'x-shoal-node-address': '127.0.0.1:1' },
  });
  await new Promise((resolve) => raw2.once('open', resolve));
  const closed2 = new Promise<number>((resolve) => raw2.once('close', (code) => resolve(code)));
  raw2.send(Buffer.from([0x92, 0x01, 0x02]));
  t.equal(await closed2, 1007, 'a decodable frame of the wrong shape is refused too');
  t.ok(b.warnings.some((w) => w.includes('SHOAL_PROTOCOL_INVALID')));
  const a = await startPeer(t, 'a');
  t.same(await a.transport.request(b.address, ECHO, 'ok', 1000), 'ok');
});

t.test('PeerTransport refuses an oversized frame with close code 1009', async (t) => {
  const b = await startPeer(t, 'b', { maxFrameBytes: 1024 });
  const a = await startPeer(t, 'a');
  const err = await a.transport.request(b.address, ECHO, 'x'.repeat(5000), 1000).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_TRANSPORT_UNAVAILABLE'), 'the oversized request fails, the caller is told');
  t.same(await a.transport.request(b.address, ECHO, 'small', 1000), 'small', 'a new connection works');
});

t.test('PeerTransport with a secret admits peers that prove it and refuses the rest before any traffic', async (t) => {
  const a = await startPeer(t, 'a', { secret: 's3cret' });
  const b = await startPeer(t, 'b', { secret: 's3cret' });
  t.same(await a.transport.request(b.address, ECHO, 'hi', 1000), 'hi');
  const wrong = await startPeer(t, 'w', { secret: 'guess' });
  const err = await wrong.transport.request(b.address, ECHO, 'hi', 1000).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_AUTH_FAILED'), 'wrong secret refused');
  const none = await startPeer(t, 'n');
  const err2 = await none.transport.request(b.address, ECHO, 'hi', 1000).catch((e: unknown) => e);
  t.ok(isShoalError(err2, 'SHOAL_AUTH_FAILED'), 'no secret refused');
  t.ok(b.warnings.some((w) => w.includes('wrong secret')));
  t.ok(b.warnings.some((w) => w.includes('no proof')));
  const err3 = await a.transport.request(wrong.address, ECHO, 'hi', 1000).catch((e: unknown) => e);
  t.ok(isShoalError(err3, 'SHOAL_AUTH_FAILED'), 'a listener with another secret is refused by the dialer side too');
});

t.test('PeerTransport refuses a replayed handshake and a stale timestamp', async (t) => {
  const b = await startPeer(t, 'b', { secret: 'k' });
  const { helloHeaders } = await import('../../src/transport/handshake.js');
  const { headers } = helloHeaders('x', '127.0.0.1:9', 'k', Date.now());
  const open = (h: Record<string, string>) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://${b.address}/peer`, { headers: h });
      ws.once('open', () => {
        ws.close();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.once('error', () => resolve('error'));
    });
  t.equal(await open(headers), 'open');
  t.equal(await open(headers), '401', 'replay refused');
  const stale = helloHeaders('x', '127.0.0.1:9', 'k', Date.now() - 3_600_000).headers;
  t.equal(await open(stale), '401', 'old timestamp refused');
});

t.test('PeerTransport tells listeners when a peer disconnects, and fails its in-flight requests', async (t) => {
  const a = await startPeer(t, 'a');
  const b = await startPeer(t, 'b');
  const gone: string[] = [];
  a.transport.onDisconnect((address) => gone.push(address));
  await a.transport.request(b.address, ECHO, 1, 1000);
  const inFlight = a.transport.request(b.address, SLOW, 1, 5000).catch((e: unknown) => e);
  await new Promise((resolve) => setImmediate(resolve));
  await b.transport.close();
  t.ok(isShoalError(await inFlight, 'SHOAL_TRANSPORT_UNAVAILABLE'));
  const deadline = Date.now() + 2000;
  while (!gone.includes(b.address) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.ok(gone.includes(b.address));
  const err = await a.transport.request('127.0.0.1:1', ECHO, 1, 1000).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_TRANSPORT_UNAVAILABLE'), 'nothing listening');
});

t.test('PeerTransport bounds requests in flight per connection', async (t) => {
  const a = await startPeer(t, 'a', { maxInFlight: 3 });
  const b = await startPeer(t, 'b');
  await a.transport.request(b.address, ECHO, 0, 1000);
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => a.transport.request(b.address, SLOW, 1, 2000)),
  );
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  t.ok(
    results
      .filter((r) => r.status === 'rejected')
      .every((r) => isShoalError((r as PromiseRejectedResult).reason, 'SHOAL_TRANSPORT_BACKPRESSURE')),
  );
});

t.test('PeerTransport close fails later requests and is safe twice', async (t) => {
  const a = await startPeer(t, 'a');
  await a.transport.close();
  await a.transport.close();
  const err = await a.transport.request('127.0.0.1:1', ECHO, 1, 100).catch((e: unknown) => e);
  t.ok(isShoalError(err, 'SHOAL_TRANSPORT_CLOSED'));
});
