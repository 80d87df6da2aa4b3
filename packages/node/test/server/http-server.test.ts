import type { InjectOptions } from 'fastify';
import t, { type Test } from 'tap';
import { LocalCache } from '../../src/index.js';
import { createHttpServer } from '../../src/server/http-server.js';

const setup = async (t: Test) => {
  const cache = new LocalCache({ maxEntries: 1000, maxValueBytes: 1000 });
  const app = await createHttpServer({
    cache,
    maxKeyBytes: cache.options.maxKeyBytes,
    stats: () => cache.stats(),
    maxBodyBytes: 2000,
    version: 'test',
  });
  t.teardown(() => app.close());
  return { cache, app };
};

t.test('HTTP keys: PUT JSON then GET returns it, DELETE removes it, missing is 404 SHOAL_KEY_NOT_FOUND', async (t) => {
  const { app, cache } = await setup(t);
  const put = await app.inject({ method: 'PUT', url: '/v1/keys/user:1', payload: { name: 'ada', n: [1, 2] } });
  t.equal(put.statusCode, 200);
  t.same(put.json(), { written: true });
  t.same(cache.get('user:1'), { name: 'ada', n: [1, 2] });
  const get = await app.inject({ method: 'GET', url: '/v1/keys/user:1' });
  t.equal(get.statusCode, 200);
  t.match(get.headers['content-type'], /application\/json/);
  t.same(get.json(), { name: 'ada', n: [1, 2] });
  const del = await app.inject({ method: 'DELETE', url: '/v1/keys/user:1' });
  t.same(del.json(), { deleted: true });
  const missing = await app.inject({ method: 'GET', url: '/v1/keys/user:1' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'SHOAL_KEY_NOT_FOUND');
});

t.test('HTTP keys: octet-stream round-trips bytes; text/plain stores a string', async (t) => {
  const { app, cache } = await setup(t);
  const bytes = Buffer.from([0, 1, 2, 255]);
  await app.inject({
    method: 'PUT',
    url: '/v1/keys/bin',
    payload: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const get = await app.inject({ method: 'GET', url: '/v1/keys/bin' });
  t.equal(get.headers['content-type'], 'application/octet-stream');
  t.same(get.rawPayload, bytes);
  await app.inject({ method: 'PUT', url: '/v1/keys/txt', payload: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(cache.get('txt'), 'hello');
});

t.test('HTTP keys: ttl, nx and xx query parameters', async (t) => {
  const { app, cache } = await setup(t);
  await app.inject({
    method: 'PUT',
    url: '/v1/keys/a?ttl=60000',
    payload: 1 as never,
    headers: { 'content-type': 'application/json' },
  });
  t.ok(cache.ttl('a') > 59_000);
  await app.inject({ method: 'PUT', url: '/v1/keys/b?ttl=30s', payload: { v: 1 } });
  t.ok(cache.ttl('b') > 29_000);
  const nx = await app.inject({ method: 'PUT', url: '/v1/keys/b?nx=true', payload: { v: 2 } });
  t.same(nx.json(), { written: false });
  const xx = await app.inject({ method: 'PUT', url: '/v1/keys/c?xx=true', payload: { v: 2 } });
  t.same(xx.json(), { written: false });
  t.equal(cache.has('c'), false);
});

t.test('HTTP errors: bad input gets a SHOAL code and the right status, never a crash', async (t) => {
  const { app } = await setup(t);
  const cases: [InjectOptions, number, string][] = [
    [{ method: 'PUT', url: '/v1/keys/a?ttl=soon', payload: { v: 1 } }, 400, 'SHOAL_ARGUMENT_INVALID'],
    [{ method: 'PUT', url: '/v1/keys/a?bogus=1', payload: { v: 1 } }, 400, 'SHOAL_ARGUMENT_INVALID'],
    [
      { method: 'PUT', url: '/v1/keys/a', payload: 'x'.repeat(3000), headers: { 'content-type': 'text/plain' } },
      413,
      'SHOAL_VALUE_TOO_LARGE',
    ],
    [
      { method: 'PUT', url: '/v1/keys/a', payload: 'x'.repeat(1500), headers: { 'content-type': 'text/plain' } },
      413,
      'SHOAL_VALUE_TOO_LARGE',
    ],
    [
      { method: 'PUT', url: '/v1/keys/a', payload: '{"broken', headers: { 'content-type': 'application/json' } },
      400,
      'SHOAL_ARGUMENT_INVALID',
    ],
    [
      { method: 'PUT', url: '/v1/keys/a', payload: '<x/>', headers: { 'content-type': 'application/xml' } },
      415,
      'SHOAL_HTTP_MEDIA_TYPE',
    ],
    [{ method: 'PUT', url: '/v1/keys/a' }, 400, 'SHOAL_VALUE_INVALID'],
    [{ method: 'GET', url: '/v2/nothing' }, 404, 'SHOAL_HTTP_ROUTE_NOT_FOUND'],
    [{ method: 'GET', url: `/v1/keys/${'k'.repeat(2000)}` }, 400, 'SHOAL_KEY_INVALID'],
  ];
  for (const [request, status, code] of cases) {
    const res = await app.inject(request);
    t.equal(res.statusCode, status, `${request.method} ${String(request.url).slice(0, 40)} -> ${status}`);
    t.equal(res.json().code, code);
  }
  const health = await app.inject({ method: 'GET', url: '/health' });
  t.same(health.json(), { status: 'ok', version: 'test' });
  const stats = await app.inject({ method: 'GET', url: '/v1/stats' });
  t.equal(stats.json().maxEntries, 1000);
});
