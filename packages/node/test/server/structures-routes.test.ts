import t, { type Test } from 'tap';
import { LocalCache } from '../../src/index.js';
import { createHttpServer } from '../../src/server/http-server.js';
import { startCluster } from '../cluster/helpers.js';

const setup = async (t: Test) => {
  const cache = new LocalCache({ maxEntries: 1000 });
  const app = await createHttpServer({
    cache,
    structures: () => cache,
    maxKeyBytes: cache.options.maxKeyBytes,
    stats: () => cache.stats(),
    maxBodyBytes: 100_000,
    version: 'test',
  });
  t.teardown(() => app.close());
  return { cache, app };
};

t.test('HTTP counters: incr from 0, by a step, negative steps; a non-integer step is 400', async (t) => {
  const { app, cache } = await setup(t);
  t.same((await app.inject({ method: 'POST', url: '/v1/counters/visits/incr' })).json(), { value: 1 });
  t.same((await app.inject({ method: 'POST', url: '/v1/counters/visits/incr?by=10' })).json(), { value: 11 });
  t.same((await app.inject({ method: 'POST', url: '/v1/counters/visits/incr?by=-3' })).json(), { value: 8 });
  t.equal(cache.get('visits'), 8);
  const bad = await app.inject({ method: 'POST', url: '/v1/counters/visits/incr?by=1.5' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'SHOAL_ARGUMENT_INVALID');
  cache.set('name', 'ada');
  const notInt = await app.inject({ method: 'POST', url: '/v1/counters/name/incr' });
  t.equal(notInt.statusCode, 409);
  t.equal(notInt.json().code, 'SHOAL_STORE_NOT_INTEGER');
});

t.test('HTTP hashes: set fields, read one and all, delete one; missing is 404; wrong kind is 409', async (t) => {
  const { app, cache } = await setup(t);
  const put = await app.inject({ method: 'PUT', url: '/v1/hashes/cart:9', payload: { sku1: 2, sku2: 'x' } });
  t.same(put.json(), { added: 2 });
  t.same((await app.inject({ method: 'PUT', url: '/v1/hashes/cart:9', payload: { sku1: 3 } })).json(), { added: 0 });
  t.same((await app.inject({ method: 'GET', url: '/v1/hashes/cart:9' })).json(), { fields: { sku1: 3, sku2: 'x' } });
  const field = await app.inject({ method: 'GET', url: '/v1/hashes/cart:9/fields/sku2' });
  t.match(field.headers['content-type'], /application\/json/);
  t.equal(field.json(), 'x', 'a string field is sent as JSON');
  t.same((await app.inject({ method: 'DELETE', url: '/v1/hashes/cart:9/fields/sku1' })).json(), { removed: 1 });
  t.same(cache.hgetall('cart:9'), { sku2: 'x' });
  t.equal((await app.inject({ method: 'GET', url: '/v1/hashes/cart:9/fields/sku1' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/v1/hashes/none' })).json().code, 'SHOAL_KEY_NOT_FOUND');
  t.equal((await app.inject({ method: 'PUT', url: '/v1/hashes/h', payload: {} })).statusCode, 400, 'no fields');
  cache.set('plain', 1);
  const wrong = await app.inject({ method: 'PUT', url: '/v1/hashes/plain', payload: { a: 1 } });
  t.equal(wrong.statusCode, 409);
  t.equal(wrong.json().code, 'SHOAL_STORE_WRONG_TYPE');
});

t.test('HTTP lists: push at both ends, range, pop at both ends; empty pop is 404', async (t) => {
  const { app } = await setup(t);
  t.same((await app.inject({ method: 'POST', url: '/v1/lists/q/push', payload: ['b', 'c'] })).json(), { length: 2 });
  t.same((await app.inject({ method: 'POST', url: '/v1/lists/q/push?end=left', payload: ['a'] })).json(), {
    length: 3,
  });
  t.same((await app.inject({ method: 'GET', url: '/v1/lists/q' })).json(), { values: ['a', 'b', 'c'], length: 3 });
  t.same((await app.inject({ method: 'GET', url: '/v1/lists/q?start=1&stop=1' })).json(), {
    values: ['b'],
    length: 3,
  });
  t.equal((await app.inject({ method: 'POST', url: '/v1/lists/q/pop?end=left' })).json(), 'a');
  t.equal((await app.inject({ method: 'POST', url: '/v1/lists/q/pop' })).json(), 'c');
  t.equal((await app.inject({ method: 'POST', url: '/v1/lists/q/pop' })).json(), 'b');
  const empty = await app.inject({ method: 'POST', url: '/v1/lists/q/pop' });
  t.equal(empty.statusCode, 404);
  t.equal((await app.inject({ method: 'POST', url: '/v1/lists/q/push?end=middle', payload: [1] })).statusCode, 400);
  t.equal((await app.inject({ method: 'POST', url: '/v1/lists/q/push', payload: { a: 1 } })).statusCode, 400);
  const longKey = await app.inject({ method: 'GET', url: `/v1/lists/${'k'.repeat(2000)}` });
  t.equal(longKey.json().code, 'SHOAL_KEY_INVALID');
});

t.test('HTTP structures on a real cluster: written through one node, read through the other', async (t) => {
  const [a, b] = await startCluster(t, 2);
  if (a === undefined || b === undefined) return;
  const call = (node: typeof a, method: string, path: string, body?: unknown) =>
    fetch(`http://${node.address}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    }).then((r) => r.json());
  for (let i = 0; i < 5; i++) await call(a, 'POST', '/v1/counters/c/incr?by=2');
  t.same(await call(b, 'POST', '/v1/counters/c/incr?by=0'), { value: 10 });
  await call(a, 'PUT', '/v1/hashes/user:1', { name: 'ada', age: 36 });
  t.same(await call(b, 'GET', '/v1/hashes/user:1'), { fields: { name: 'ada', age: 36 } });
  await call(b, 'POST', '/v1/lists/jobs/push', [1, 2, 3]);
  t.same(await call(a, 'GET', '/v1/lists/jobs'), { values: [1, 2, 3], length: 3 });
});
