import t, { type Test } from 'tap';
import { findOnPath, startRedisServer } from '../src/scenarios/cluster/redis-server.js';
import { type LogRun, measureRedisRun, measureShoalRun } from '../src/scenarios/log/log-runs.js';
import { type LogParams, QUICK } from '../src/scenarios/log/params.js';

const TINY: LogParams = {
  ...QUICK,
  append: { messages: 2000, window: 200, maxMs: 10_000 },
  consume: { batch: 200, maxMs: 10_000, idleMs: 1000 },
  fanout: { messages: 2000, window: 200, maxMs: 10_000, idleMs: 1000, interestTimeoutMs: 10_000 },
  latency: { ratePerSec: 500, warmupMs: 100, durationMs: 300, idleMs: 1000 },
  startLeadMs: 300,
};

function checkRun(t: Test, r: LogRun): void {
  t.same([r.append.sent, r.append.errors], [2000, 0], r.append.firstError ?? '');
  t.equal(r.consume.arrival.count, 2000);
  t.equal(r.consume.unackedAfter, 0, 'every consumed message was acked');
  t.equal(r.fanout.subscribe.count, 2000);
  t.equal(r.latency.produce.sent, 200);
  t.equal(r.latency.consume.count, 200);
  t.equal(r.latency.consume.warmup, 50);
  t.equal(r.latency.consume.latency?.count, 150);
  t.ok(r.append.perSec > 0 && r.consume.perSec > 0 && r.fanout.perSec > 0);
}

t.test('log shoal run appends, consumes, fans out and measures latency on a real 3-node cluster', async (t) => {
  const r = await measureShoalRun(TINY, 0);
  checkRun(t, r);
  t.equal(r.placement?.partitions, TINY.partitions);
  t.ok((r.placement?.producerLeads ?? -1) >= 0);
});

const redisBin = findOnPath('redis-server');
t.test(
  'log redis run drives streams and pub/sub from ioredis processes and deletes its keys',
  { skip: redisBin === null ? 'redis-server is not on PATH' : false },
  async (t) => {
    const server = await startRedisServer(redisBin as string);
    t.teardown(() => server.stop());
    const r = await measureRedisRun(TINY, server.port, 0);
    checkRun(t, r);
    t.equal(r.placement, null);
  },
);
