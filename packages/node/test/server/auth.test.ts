import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { createNode, LocalCache } from '../../src/index.js';
import { verifyBearer } from '../../src/server/auth.js';
import { createHttpServer } from '../../src/server/http-server.js';
import { eventually } from '../cluster/helpers.js';

const TOKEN = 'client-token-123';
const ADMIN = 'admin-token-456';

/** A pino logger whose lines land in `lines` (parsed). */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

t.test('verifyBearer accepts the exact token only, and everything when no token is set', async (t) => {
  t.equal(verifyBearer(`Bearer ${TOKEN}`, TOKEN), true);
  t.equal(verifyBearer(`bearer   ${TOKEN}`, TOKEN), true, 'scheme is case-insensitive');
  t.equal(verifyBearer(`Bearer ${TOKEN}x`, TOKEN), false, 'longer token');
  t.equal(verifyBearer('Bearer client-token-12', TOKEN), false, 'prefix of the token');
  t.equal(verifyBearer(TOKEN, TOKEN), false, 'no scheme');
  t.equal(verifyBearer(`Basic ${TOKEN}`, TOKEN), false, 'other scheme');
  t.equal(verifyBearer(undefined, TOKEN), false, 'no header');
  t.equal(verifyBearer(undefined, undefined), true, 'open node');
});

const setup = async (t: Test, tokens: { token?: string; adminToken?: string }) => {
  const cache = new LocalCache({ maxEntries: 100 });
  const { logger, lines } = capturingLogger();
  const app = await createHttpServer({
    cache,
    maxKeyBytes: 1024,
    stats: () => cache.stats(),
    maxBodyBytes: 1000,
    version: 'test',
    logger,
    metrics: async () => ({ contentType: 'text/plain', body: 'shoal_up 1\n' }),
    ready: () => ({ ready: true, members: 1, syncing: 0, handingOff: 0 }),
    ...tokens,
  });
  t.teardown(() => app.close());
  return { app, lines };
};

t.test('HTTP auth: /v1 and /metrics need the bearer token; /health, /ready and the page stay open', async (t) => {
  const { app, lines } = await setup(t, { token: TOKEN });
  const none = await app.inject({ method: 'GET', url: '/v1/keys/a' });
  t.equal(none.statusCode, 401);
  t.equal(none.json().code, 'SHOAL_AUTH_REQUIRED');
  t.match(none.headers['www-authenticate'], /^Bearer/);
  const wrong = await app.inject({ method: 'GET', url: '/v1/stats', headers: { authorization: 'Bearer nope-nope' } });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().code, 'SHOAL_AUTH_FAILED');
  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(metrics.statusCode, 401, '/metrics is guarded');
  const put = await app.inject({
    method: 'PUT',
    url: '/v1/keys/a',
    payload: { x: 1 },
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  t.equal(put.statusCode, 200, 'the right token passes');
  const scraped = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(scraped.body, 'shoal_up 1\n');
  // a refused request with a body is refused before the body is parsed
  const unparsed = await app.inject({
    method: 'PUT',
    url: '/v1/keys/a',
    payload: '{not json',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(unparsed.statusCode, 401);
  for (const url of ['/health', '/ready', '/', '/dashboard.js', '/openapi.json']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} is open`);
  }
  const refused = lines.filter((l) => l.msg === 'HTTP request refused');
  t.equal(refused.length, 4, 'one warn line per refusal');
  t.match(refused[0], { level: 40, code: 'SHOAL_AUTH_REQUIRED', method: 'GET', path: '/v1/keys/a' });
  t.notOk(JSON.stringify(lines).includes(TOKEN), 'the token never reaches the log');
});

t.test('HTTP auth: no token configured leaves every route open', async (t) => {
  const { app } = await setup(t, {});
  t.equal((await app.inject({ method: 'GET', url: '/v1/stats' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
});

t.test('HTTP admin: POST /v1/cluster/leave needs the admin token; it makes a real node leave', async (t) => {
  const node = await createNode({ port: 0, membership: 'local', token: TOKEN, adminToken: ADMIN });
  t.teardown(() => node.shutdown());
  const leave = (authorization?: string) =>
    fetch(`http://${node.address}/v1/cluster/leave`, {
      method: 'POST',
      headers: authorization === undefined ? {} : { authorization },
    });
  const none = await leave();
  t.equal(none.status, 401);
  t.equal(((await none.json()) as { code: string }).code, 'SHOAL_AUTH_REQUIRED');
  const client = await leave(`Bearer ${TOKEN}`);
  t.equal(client.status, 403, 'the client token is not enough');
  t.equal(((await client.json()) as { code: string }).code, 'SHOAL_AUTH_FORBIDDEN');
  const wrong = await leave('Bearer wrong-wrong');
  t.equal(((await wrong.json()) as { code: string }).code, 'SHOAL_AUTH_FAILED');
  // the admin token also passes the client routes
  const stats = await fetch(`http://${node.address}/v1/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(stats.status, 200);
  const ok = await leave(`Bearer ${ADMIN}`);
  t.equal(ok.status, 202);
  t.same(await ok.json(), { leaving: true, id: node.id });
  await eventually(t, 'the node stops serving after its leave', async () => {
    try {
      await fetch(`http://${node.address}/health`, { signal: AbortSignal.timeout(500) });
      return false;
    } catch {
      return true;
    }
  });
  t.equal(node.members().find((m) => m.id === node.id)?.state, 'left', 'the node announced its leave before stopping');
});

t.test('HTTP admin: without an adminToken the client token runs admin routes', async (t) => {
  const node = await createNode({ port: 0, membership: 'local', token: TOKEN });
  t.teardown(() => node.shutdown());
  const res = await fetch(`http://${node.address}/v1/cluster/leave`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  t.equal(res.status, 202);
  await node.close();
});

t.test('Peer secret: a node with the wrong secret cannot join the cluster', async (t) => {
  const a = await createNode({ port: 0, nodeId: 'a', membership: 'local', secret: 'right-secret' });
  t.teardown(() => a.shutdown());
  const intruder = await createNode({
    port: 0,
    nodeId: 'x',
    membership: 'local',
    secret: 'wrong-secret',
    seeds: [a.address],
  });
  t.teardown(() => intruder.shutdown());
  t.same(
    intruder.members().map((m) => m.id),
    ['x'],
    'the intruder runs alone',
  );
  t.same(
    a.members().map((m) => m.id),
    ['a'],
    'the cluster never saw it',
  );
  const ready = await fetch(`http://${intruder.address}/ready`);
  t.equal(ready.status, 503, 'a node that could not join is not ready');
  t.match(await ready.json(), { code: 'SHOAL_NODE_NOT_READY', details: { reason: 'joining' } });
});

/** Opens a raw TCP connection and resolves once connected. */
const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });

t.test('HTTP limits: connections over maxConnectionsPerIp get 429 and a log line; closing frees a slot', async (t) => {
  const { logger, lines } = capturingLogger();
  const node = await createNode({ port: 0, membership: 'local', maxConnectionsPerIp: 3, logger });
  t.teardown(() => node.shutdown());
  const port = Number(node.address.split(':')[1]);
  const held = [await open(port), await open(port), await open(port)];
  t.teardown(() => {
    for (const s of held) s.destroy();
  });
  const extra = await open(port);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    extra.on('data', (d: Buffer) => {
      text += d.toString();
    });
    extra.on('close', () => resolve(text));
  });
  t.match(answer, /^HTTP\/1\.1 429 /);
  t.match(answer, /"code":"SHOAL_HTTP_TOO_MANY_CONNECTIONS"/);
  t.ok(
    lines.some((l) => l.code === 'SHOAL_HTTP_TOO_MANY_CONNECTIONS' && l.remote !== undefined),
    'the refusal is logged',
  );
  (held.pop() as Socket).destroy();
  await eventually(t, 'a freed slot admits a new request', async () => {
    try {
      return (await fetch(`http://${node.address}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
    } catch {
      return false;
    }
  });
});

t.test('HTTP limits: a body over the limit gets 413 SHOAL_VALUE_TOO_LARGE and the node keeps serving', async (t) => {
  const { logger, lines } = capturingLogger();
  const node = await createNode({ port: 0, membership: 'local', maxValueBytes: 2048, logger });
  t.teardown(() => node.shutdown());
  const big = await fetch(`http://${node.address}/v1/keys/big`, {
    method: 'PUT',
    body: 'x'.repeat(64 * 1024),
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(big.status, 413);
  t.equal(((await big.json()) as { code: string }).code, 'SHOAL_VALUE_TOO_LARGE');
  const small = await fetch(`http://${node.address}/v1/keys/small`, {
    method: 'PUT',
    body: 'ok',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(small.status, 200, 'still serving');
  t.match(
    lines.find((l) => l.msg === 'HTTP request refused: too large'),
    { level: 40, code: 'SHOAL_VALUE_TOO_LARGE', method: 'PUT', path: '/v1/keys/big' },
    'the refusal is logged',
  );
});
