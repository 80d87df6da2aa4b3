/** Client parts without sockets: options, reconnect delays, the routing table. */
import { partitionOf } from '@shoal/protocol';
import t from 'tap';
import { endpointUrl, reconnectDelay, resolveConnectOptions } from '../src/client-options.js';
import { RoutingTable, type WireTable } from '../src/routing-table.js';

t.test('endpointUrl adds the /v1/client path and keeps an explicit one', async (t) => {
  t.equal(endpointUrl('ws://127.0.0.1:7400'), 'ws://127.0.0.1:7400/v1/client');
  t.equal(endpointUrl('127.0.0.1:7400'), 'ws://127.0.0.1:7400/v1/client');
  t.equal(endpointUrl('wss://shoal.example:443/custom'), 'wss://shoal.example/custom');
  t.throws(() => endpointUrl('http://x:1'), { code: 'SHOAL_CONFIG_INVALID' });
});

t.test('resolveConnectOptions applies defaults and freezes', async (t) => {
  const o = resolveConnectOptions({ nodes: ['ws://a:1'] });
  t.equal(o.timeoutMs, 10_000);
  t.equal(o.connectTimeoutMs, 10_000);
  t.equal(o.maxInFlight, 1024);
  t.ok(Object.isFrozen(o));
  t.throws(() => resolveConnectOptions({ nodes: ['ws://a:1'], reconnectBaseMs: 100, reconnectMaxMs: 50 }), {
    code: 'SHOAL_CONFIG_INVALID',
  });
  t.throws(() => resolveConnectOptions({ nodes: ['ws://a:1'], token: '' }), { code: 'SHOAL_CONFIG_INVALID' });
});

t.test('reconnectDelay doubles up to the cap with jitter in the upper half', async (t) => {
  t.equal(
    reconnectDelay(0, 50, 2000, () => 0),
    25,
  );
  t.equal(
    reconnectDelay(0, 50, 2000, () => 1),
    50,
  );
  t.equal(
    reconnectDelay(3, 50, 2000, () => 1),
    400,
  );
  t.equal(
    reconnectDelay(10, 50, 2000, () => 1),
    2000,
  );
  t.equal(
    reconnectDelay(10, 50, 2000, () => 0),
    1000,
  );
  t.equal(
    reconnectDelay(1000, 50, 2000, () => 0.5),
    1500,
    'huge attempt counts do not overflow',
  );
});

const table = (id: number, owners: string[][]): WireTable => ({
  id,
  version: 1,
  partitionCount: owners.length,
  replicas: 2,
  owners,
  addresses: { a: '127.0.0.1:1', b: '127.0.0.1:2' },
});

t.test('RoutingTable routes keys with the nodes partition function and takes only differing tables', async (t) => {
  const r = new RoutingTable();
  t.same(r.ownersOf('k'), [], 'no owners before the first table');
  const owners = Array.from({ length: 7 }, (_, p) => (p % 2 === 0 ? ['a', 'b'] : ['b', 'a']));
  t.equal(r.update(table(11, owners)), true);
  for (const key of ['user:1', 'user:2', 'ключ']) t.same(r.ownersOf(key), owners[partitionOf(key, 7)]);
  t.equal(r.update(table(11, owners)), false, 'the same table again is not news');
  t.equal(r.update({ nope: true } as never), false, 'garbage is ignored');
  const swapped = owners.map((o) => [...o].reverse());
  t.equal(r.update(table(12, swapped)), true);
  t.equal(r.id, 12);
  t.same(r.ownersOf('user:1'), swapped[partitionOf('user:1', 7)]);
  t.equal(r.addressOf('b'), '127.0.0.1:2');
});
