import t from 'tap';
import type { ShoalNode } from '../../src/index.js';
import { eventually, startCluster } from '../cluster/helpers.js';
import { spawnWarmNode } from './child.js';

const priceOf = (id: string) => Number(id.slice(3)) * 10;

async function publish(node: ShoalNode, topic: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(ids.slice(i, i + 50).map((id) => node.log.append(topic, id, { key: id, id: `warm-${id}` })));
  }
}

async function countKeys(node: ShoalNode, prefix: string): Promise<number> {
  let cursor = 0;
  let count = 0;
  do {
    const page = await node.cache.scan({ cursor, prefix, count: 500 });
    count += page.keys.length;
    cursor = page.cursor;
  } while (cursor !== 0);
  return count;
}

t.test(
  'Warmer in a child process shows moving progress and lag; after its SIGKILL another warmer finishes every id',
  async (t) => {
    const nodes = await startCluster(t, 3, { replicas: 2 });
    const [n0, n1] = nodes as [ShoalNode, ShoalNode];
    const ids = Array.from({ length: 400 }, (_, i) => `id-${i}`);
    await n0.log.createTopic('warm-ids', { partitions: 4 });
    await publish(n0, 'warm-ids', ids);

    const child = await spawnWarmNode(t, {
      nodeId: 'warm-child',
      seeds: [n0.address],
      warmer: { topic: 'warm-ids', group: 'warmers', loadMs: 25, concurrency: 4, ackTimeoutMs: 1500 },
    });
    await eventually(
      t,
      'the child warmer loaded 120 ids',
      () => child.progress.some((p) => (p.loaded ?? 0) >= 120),
      30_000,
    );
    child.process.kill('SIGKILL');
    await child.exited;
    const seen = child.progress.filter((p) => Number.isFinite(p.lag));
    const lags = seen.map((p) => p.lag as number);
    t.ok(lags.length >= 2, `progress reported lag repeatedly (${lags.length} times)`);
    t.ok(Math.max(...lags) > Math.min(...lags), `lag moved (${Math.max(...lags)} -> ${Math.min(...lags)})`);
    t.ok((lags.at(-1) as number) < 400 && (lags.at(-1) as number) > 0, 'lag went down but the work was not done');
    const loads = seen.map((p) => p.loaded as number);
    t.ok(
      loads.every((n, i) => i === 0 || n >= (loads[i - 1] as number)),
      'loaded only grows',
    );
    t.ok(
      seen.some((p) => (p.ratePerSec as number) > 0),
      'a rate was reported',
    );
    const childLoaded = Math.max(...child.progress.map((p) => p.loaded ?? 0));

    const warmer = n1.warmer({
      topic: 'warm-ids',
      group: 'warmers',
      concurrency: 16,
      batch: 8,
      key: (id) => `item:${id}`,
      loader: (id) => ({ id, price: priceOf(id) }),
    });
    t.teardown(() => warmer.stop());
    let idle = 0;
    warmer.on('idle', () => idle++);
    await warmer.drained(45_000);
    const p = warmer.progress();
    t.equal(p.lag, 0);
    t.equal(p.inFlight, 0);
    t.ok(
      p.loaded >= 400 - childLoaded,
      `the second warmer loaded the rest (${p.loaded} + ${childLoaded} by the child)`,
    );
    t.ok(p.loaded < 400, 'the child’s completed ids were not all loaded again');
    t.equal(p.failed, 0);

    let wrong = 0;
    for (const id of ids) {
      const value = (await n0.cache.get(`item:${id}`)) as { id: string; price: number } | undefined;
      if (value?.id !== id || value.price !== priceOf(id)) wrong++;
    }
    t.equal(wrong, 0, 'every id is in the cache with its loaded value');
    t.equal(await countKeys(n0, 'item:'), 400, 'and nothing else was loaded');
    await eventually(t, 'an idle event', () => idle > 0, 5000);
  },
);

t.test('Warmer retries a failing loader, dead-letters the id after maxDeliveries, counts skips', async (t) => {
  const nodes = await startCluster(t, 3, { replicas: 2 });
  const [n0, n2] = [nodes[0], nodes[2]] as [ShoalNode, ShoalNode];
  await n0.log.createTopic('warm-bad', { partitions: 2 });
  const ids = [...Array.from({ length: 20 }, (_, i) => `id-${i}`), 'bad-1', 'bad-2', 'none-1'];
  await publish(n0, 'warm-bad', ids);
  const attempts = new Map<string, number>();
  const errors: string[] = [];
  const warmer = n2.warmer({
    topic: 'warm-bad',
    maxDeliveries: 3,
    ttl: '1h',
    loader: async (id) => {
      attempts.set(id, (attempts.get(id) ?? 0) + 1);
      if (id.startsWith('bad-')) throw new Error(`database has no row ${id}`);
      if (id.startsWith('none-')) return undefined;
      return { id };
    },
  });
  t.teardown(() => warmer.stop());
  warmer.on('error', (err, id) => errors.push(`${id}: ${err.message}`));
  await warmer.drained(30_000);
  t.match(warmer.progress(), { loaded: 20, skipped: 1, failed: 6, inFlight: 0, lag: 0 });
  t.equal(attempts.get('bad-1'), 3, 'a failing id is tried maxDeliveries times');
  t.equal(attempts.get('id-3'), 1, 'a good id once');
  t.equal(errors.filter((e) => e.startsWith('bad-1:')).length, 3, 'each failure is an error event with the id');
  t.equal(await n0.cache.get('none-1'), undefined, 'a skipped id is not cached');
  const ttl = await n0.cache.ttl('id-5');
  t.ok(ttl > 3_000_000, 'loaded with the TTL');

  const dead: unknown[] = [];
  const dlq = n0.log.consume('warm-bad.dlq', { group: 'inspect', from: 'earliest' }, (m) => {
    dead.push(m.value);
  });
  t.teardown(() => dlq.close());
  await eventually(t, 'both failing ids in the DLQ', () => dead.length >= 2, 15_000);
  t.same([...dead].sort(), ['bad-1', 'bad-2'], 'exactly the failing ids were dead-lettered');
});

t.test('Warmer options are checked, and the warmer ends with its node', async (t) => {
  const [n0] = (await startCluster(t, 1, { replicas: 1 })) as [ShoalNode];
  t.throws(() => n0.warmer({ topic: '', loader: () => 1 }), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.throws(() => n0.warmer({ topic: 'x', loader: 'nope' as never }), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.throws(() => n0.warmer({ topic: 'x', loader: () => 1, concurrency: 0 }), { code: 'SHOAL_ARGUMENT_INVALID' });
  t.throws(() => n0.warmer({ topic: 'x', loader: () => 1, batch: 1.5 }), { code: 'SHOAL_ARGUMENT_INVALID' });
  await n0.log.createTopic('ids');
  const warmer = n0.warmer({ topic: 'ids', loader: (id) => id });
  await n0.shutdown();
  await t.rejects(warmer.drained(5000), { code: 'SHOAL_NODE_CLOSED' }, 'a closed node ends its warmers');
});
