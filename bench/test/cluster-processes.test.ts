import t from 'tap';
import { runTask } from '../src/runner/child-runner.js';
import type { LoadResult } from '../src/scenarios/cluster/load.js';
import { LocalCluster } from '../src/scenarios/cluster/local-cluster.js';
import type { RedisLoadInput } from '../src/scenarios/cluster/redis-load-task.js';
import { findOnPath, startRedisServer } from '../src/scenarios/cluster/redis-server.js';
import type { StallReport } from '../src/scenarios/cluster/stalls.js';
import type { TrafficCounters } from '../src/scenarios/cluster/worker-protocol.js';

t.test('cluster node workers join, serve load, stall, count traffic and report a SIGKILLed member dead', async (t) => {
  // three nodes: with two, the lone survivor's suspicion gets no confirmation and lasts its 12 s maximum
  const cluster = await LocalCluster.start({ size: 3, idPrefix: 'w', readyTimeoutMs: 20_000 });
  t.teardown(() => cluster.stop());
  t.same(
    cluster.nodes.map((n) => n.nodeId),
    ['w-0', 'w-1', 'w-2'],
  );
  await cluster.waitUntil(() => cluster.converged(), 20_000, 'convergence');
  const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];

  const spec = { keys: 200, valueBytes: 100, concurrency: 4 };
  await Promise.all(cluster.nodes.map((n, i) => n.request({ type: 'prefill', spec, shard: i, shards: 3 }, 20_000)));
  const load = await a.request<LoadResult>(
    {
      type: 'load',
      spec: { ...spec, startAt: Date.now(), warmupMs: 50, durationMs: 300, readFraction: 0.9, seed: 1 },
    },
    20_000,
  );
  t.ok(load.gets > 0 && load.sets > 0, `${load.gets} gets, ${load.sets} sets`);
  t.equal(load.errors, 0, load.firstError ?? '');

  const stall = await b.request<StallReport>(
    { type: 'stall', spec: { durationMs: 400, stallMs: 50, everyMs: 150, jitterMs: 20, seed: 1 } },
    20_000,
  );
  t.ok(stall.stalls >= 1 && stall.longestMs >= 50);

  const traffic = await a.request<TrafficCounters | null>({ type: 'traffic' }, 20_000);
  t.ok(traffic === null || traffic.bytesOut > 0, 'the load crossed the wire');

  const killAt = b.kill();
  await cluster.waitUntil(() => cluster.views().get('w-0')?.get('w-1') === 'dead', 30_000, 'w-1 dead at w-0');
  const dead = cluster.observations.find((o) => o.observer === 'w-0' && o.member === 'w-1' && o.to === 'dead');
  t.ok(dead !== undefined && dead.at >= killAt);
  await t.rejects(b.request({ type: 'traffic' }, 1000), /exited/);
});

t.test('cluster start rejects with the node error when a worker cannot create its node', async (t) => {
  await t.rejects(LocalCluster.start({ size: 1, idPrefix: 'x'.repeat(200), readyTimeoutMs: 20_000 }), /nodeId/);
});

const redisBin = findOnPath('redis-server');
t.test(
  'cluster redis anchor starts a server on a free port and drives it from a load task',
  { skip: redisBin === null ? 'redis-server is not on PATH' : false },
  async (t) => {
    const server = await startRedisServer(redisBin as string);
    t.teardown(() => server.stop());
    t.match(server.version, /^\d+\.\d+/);
    const task = new URL('../src/scenarios/cluster/redis-load-task.js', import.meta.url);
    const spec = { keys: 100, valueBytes: 100, concurrency: 4 };
    t.same(
      await runTask({
        module: task,
        exportName: 'redisPrefill',
        input: { port: server.port, spec },
        timeoutMs: 20_000,
      }),
      { written: 100 },
    );
    const out = await runTask<RedisLoadInput, LoadResult>({
      module: task,
      exportName: 'redisLoad',
      input: {
        port: server.port,
        spec: { ...spec, startAt: Date.now(), warmupMs: 20, durationMs: 200, readFraction: 0.9, seed: 2 },
      },
      timeoutMs: 20_000,
    });
    t.ok(out.gets > out.sets && out.sets > 0);
    t.equal(out.errors, 0);
    await server.stop();
    t.throws(() => process.kill(server.pid, 0), 'the server is gone after stop');
  },
);
