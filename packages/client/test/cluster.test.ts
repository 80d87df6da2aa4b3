/**
 * The client against clusters of child-process nodes, killed and restarted
 * for real: each node receives only the keys it is primary for; a load keeps
 * going through a join and through a SIGKILL of a primary without an error,
 * a lost acknowledged write or a call past its timeout; a restarted node is
 * reconnected to.
 */
import { isShoalError } from '@shoal/protocol';
import t, { type Test } from 'tap';
import { connect, type ShoalClient } from '../src/index.js';
import { eventually, kill, settled, spawnNode } from './child-nodes.js';

const CALL_TIMEOUT_MS = 8000;

async function open(t: Test, url: string): Promise<ShoalClient> {
  const client = await connect({ nodes: [url], timeout: CALL_TIMEOUT_MS });
  t.teardown(() => client.close());
  return client;
}

/**
 * Writes through the client until `stop()` or the bounds, one key set per
 * worker so acknowledgements per key are ordered; records the last acked
 * value, later unacknowledged attempts, failures and the slowest call.
 */
async function load(
  client: ShoalClient,
  o: { workers: number; keysPerWorker: number; maxWrites: number; maxMs: number; stop: () => boolean },
) {
  const acked = new Map<string, number>();
  const uncertain = new Map<string, number[]>();
  const failures: string[] = [];
  let slowestMs = 0;
  let next = 0;
  const deadline = Date.now() + o.maxMs;
  const worker = async (w: number) => {
    while (next < o.maxWrites && Date.now() < deadline && !o.stop()) {
      const n = next++;
      const key = `load:${w}:${n % o.keysPerWorker}`;
      const started = Date.now();
      try {
        await client.cache.set(key, n);
        acked.set(key, n);
        uncertain.delete(key);
      } catch (err) {
        failures.push(isShoalError(err) ? err.code : String(err));
        uncertain.set(key, [...(uncertain.get(key) ?? []), n]);
      }
      slowestMs = Math.max(slowestMs, Date.now() - started);
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return { acked, uncertain, failures, slowestMs, writes: next };
}

async function lostWrites(
  client: ShoalClient,
  acked: ReadonlyMap<string, number>,
  uncertain: ReadonlyMap<string, number[]>,
): Promise<string[]> {
  const keys = [...acked.keys()];
  const values = await client.cache.mget(keys);
  return keys.filter((key, i) => {
    const got = values[i];
    return got !== acked.get(key) && !(uncertain.get(key) ?? []).includes(got as number);
  });
}

t.test('Client routing spread: each node receives only the keys it is primary for', async (t) => {
  const a = await spawnNode(t, 'a');
  const b = await spawnNode(t, 'b', ['--seeds', a.address]);
  const c = await spawnNode(t, 'c', ['--seeds', a.address]);
  await eventually(t, 'the cluster settles', () => settled([a, b, c], ['a', 'b', 'c']));
  const client = await open(t, a.url);
  await eventually(t, 'the client knows and reaches all three nodes', async () => {
    await client.cache.get('probe');
    return client.connectedNodes().length === 3;
  });
  const before = await Promise.all(['a', 'b', 'c'].map((id) => client.nodeStats(id)));
  await Promise.all(Array.from({ length: 3000 }, (_, i) => client.cache.set(`spread:${i}`, i)));
  const after = await Promise.all(['a', 'b', 'c'].map((id) => client.nodeStats(id)));
  const delta = (i: number, k: string) => (after[i]?.[k] ?? 0) - (before[i]?.[k] ?? 0);
  let total = 0;
  for (const [i, id] of ['a', 'b', 'c'].entries()) {
    t.equal(delta(i, 'forwardedOps'), 0, `${id} forwarded nothing`);
    t.ok(delta(i, 'primaryOps') > 500, `${id} served ${delta(i, 'primaryOps')} of its own keys`);
    total += delta(i, 'primaryOps');
  }
  t.equal(total, 3000, 'every op went straight to its primary');
});

t.test('Client load runs through a node join: no error, no lost write, no call past its timeout', async (t) => {
  const a = await spawnNode(t, 'a');
  const b = await spawnNode(t, 'b', ['--seeds', a.address]);
  await eventually(t, 'the cluster settles', () => settled([a, b], ['a', 'b']));
  const client = await open(t, a.url);
  let done = false;
  const running = load(client, { workers: 32, keysPerWorker: 50, maxWrites: 200_000, maxMs: 30_000, stop: () => done });
  await new Promise((r) => setTimeout(r, 500));
  const joined = await spawnNode(t, 'c', ['--seeds', a.address]);
  const nodes = [a, b, joined];
  await eventually(t, 'the join settles', () => settled(nodes, ['a', 'b', 'c']), 30_000);
  await new Promise((r) => setTimeout(r, 500));
  done = true;
  const result = await running;
  t.ok(result.writes > 1000, `${result.writes} writes`);
  t.same(result.failures, [], 'no call failed');
  t.ok(result.slowestMs <= CALL_TIMEOUT_MS + 500, `slowest call ${result.slowestMs} ms`);
  t.same(await lostWrites(client, result.acked, result.uncertain), [], 'every acknowledged write is there');
  await eventually(t, 'the client routes to the new node', () => client.connectedNodes().includes('c'));
});

t.test('Client load runs through a SIGKILL of a primary: no lost write, no call past its timeout', async (t) => {
  const a = await spawnNode(t, 'a');
  const b = await spawnNode(t, 'b', ['--seeds', a.address]);
  const c = await spawnNode(t, 'c', ['--seeds', a.address]);
  await eventually(t, 'the cluster settles', () => settled([a, b, c], ['a', 'b', 'c']));
  const client = await open(t, a.url);
  await eventually(t, 'the client reaches all three nodes', async () => {
    await client.cache.get('probe');
    return client.connectedNodes().length === 3;
  });
  let done = false;
  const running = load(client, { workers: 32, keysPerWorker: 50, maxWrites: 200_000, maxMs: 30_000, stop: () => done });
  await new Promise((r) => setTimeout(r, 700));
  await kill(b);
  await eventually(t, 'the survivors settle', () => settled([a, c], ['a', 'c']), 30_000);
  await new Promise((r) => setTimeout(r, 500));
  done = true;
  const result = await running;
  t.ok(result.writes > 1000, `${result.writes} writes`);
  t.same(result.failures, [], 'no call failed');
  t.ok(result.slowestMs <= CALL_TIMEOUT_MS + 500, `slowest call ${result.slowestMs} ms`);
  t.same(await lostWrites(client, result.acked, result.uncertain), [], 'every acknowledged write is there');
});

t.test('Client reconnects to a node restarted on the same port, and typed errors meanwhile', async (t) => {
  const first = await spawnNode(t, 'a');
  const port = first.address.split(':')[1] as string;
  const client = await connect({ nodes: [first.url], timeout: 1000, reconnectBaseMs: 20, reconnectMaxMs: 200 });
  t.teardown(() => client.close());
  const events: string[] = [];
  for (const e of ['connect', 'disconnect', 'reconnect'] as const) client.on(e, () => events.push(e));
  await client.cache.set('k', 1);
  await kill(first);
  const started = Date.now();
  const down = await client.cache.get('k').catch((e: unknown) => e);
  t.ok(isShoalError(down, 'SHOAL_REQUEST_TIMEOUT'), String(down));
  t.ok(Date.now() - started < 1500, 'the call ended at its timeout');
  await spawnNode(t, 'a', ['--port', port]);
  await eventually(t, 'the client reconnects', () => events.includes('reconnect'));
  t.equal(await client.cache.set('k', 2), true);
  t.equal(await client.cache.get('k'), 2);
  t.equal(events[0], 'disconnect', events.join(','));
  t.ok(events.indexOf('reconnect') > 0, events.join(','));
});
