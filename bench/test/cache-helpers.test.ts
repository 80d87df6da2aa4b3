import t from 'tap';
import { cacheReport } from '../src/scenarios/cache/cache-report.js';
import { estimateSkew, pairLatencies, wallNow } from '../src/scenarios/cache/latency.js';
import { dueNow, runPaced } from '../src/scenarios/cache/pacing.js';
import { FULL, QUICK } from '../src/scenarios/cache/params.js';
import { readTrace } from '../src/scenarios/cache/read-throughput.js';
import { CacheWorker } from '../src/scenarios/cache/worker-client.js';

t.test('pairLatencies pairs writes with drops by index, counts missing drops, clamps clock skew to 0', async (t) => {
  const written = [100, 200, 300, 400, 500];
  const dropped = [101, 203, Number.NaN, 399.5, 510];
  const r = pairLatencies(written, dropped);
  t.equal(r.count, 4);
  t.equal(r.missing, 1, 'the write that never dropped');
  t.equal(r.max, 10);
  // sorted latencies 0, 1, 3, 10: p50 between 1 and 3, p99 just under 10
  t.equal(r.p50, 2);
  t.ok(Math.abs(r.p99 - (3 + 7 * 0.97)) < 1e-9, `p99 ${r.p99}`);
  t.throws(() => pairLatencies([1, 2], [1]), RangeError);
  const skewed = pairLatencies([100, 200], [150.5, 199], 0.5);
  t.same([skewed.max, skewed.early], [50, 1], 'the skew is removed; a drop still before its write is counted');
  const none = pairLatencies([1], [Number.NaN]);
  t.equal(none.count, 0);
  t.ok(Number.isNaN(none.p99), 'no samples: no percentile');
});

t.test('estimateSkew trusts the shortest round trip and bounds its error by half of it', async (t) => {
  // the remote clock runs 3 ms ahead; the slow sample would suggest 8 ms
  const r = estimateSkew([
    { sentAt: 0, remote: 23, receivedAt: 30 },
    { sentAt: 100, remote: 103.5, receivedAt: 101 },
  ]);
  t.equal(r.skewMs, 3);
  t.equal(r.errorMs, 0.5);
  t.throws(() => estimateSkew([]), RangeError);
});

t.test('wallNow is a wall clock in ms with sub-ms resolution', async (t) => {
  const a = wallNow();
  t.ok(Math.abs(a - Date.now()) < 1000, 'close to Date.now()');
  t.ok(wallNow() >= a, 'monotonic within a process');
});

t.test('dueNow issues op 0 at once and then ratePerSec per second, capped at total', async (t) => {
  t.equal(dueNow(0, 10_000, 0, 100), 1);
  t.equal(dueNow(1, 10_000, 1, 100), 10, '1 ms at 10k/s: ops 1..10');
  t.equal(dueNow(1000, 10_000, 0, 100), 100, 'capped at total');
  t.equal(dueNow(5, 1000, 6, 100), 0, 'already issued');
  t.equal(dueNow(-1, 1000, 0, 100), 0);
});

t.test('runPaced issues every op in order at about the rate and waits for them', async (t) => {
  const issuedAt: number[] = [];
  const completed: number[] = [];
  const started = performance.now();
  const r = await runPaced(
    200,
    2000,
    10_000,
    async (i) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      completed.push(i);
      if (i === 7) throw new Error('one failure');
    },
    (i) => issuedAt.push(i),
  );
  const elapsed = performance.now() - started;
  t.equal(r.issued, 200);
  t.equal(r.errors, 1);
  t.same(
    issuedAt,
    Array.from({ length: 200 }, (_, i) => i),
    'issued in order',
  );
  t.equal(completed.length, 200, 'every op finished before it resolved');
  // op 199 is due at 99.5 ms: it cannot be issued earlier, however idle the machine
  t.ok(r.issueMs >= 99 && elapsed >= 99, `issue phase ${r.issueMs.toFixed(1)} ms`);
  t.ok(r.maxInFlight >= 1);
});

t.test('runPaced stops issuing after maxMs', async (t) => {
  const r = await runPaced(1_000_000, 1000, 50, async () => {});
  t.ok(r.issued < 1_000_000 && r.issued >= 1, `issued ${r.issued} in about 50 ms`);
});

t.test('readTrace is a pure function of its seed, skewed towards the first keys', async (t) => {
  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
  const a = readTrace({ keys, zipfS: 0.99, traceOps: 5000, seed: 7 });
  const b = readTrace({ keys, zipfS: 0.99, traceOps: 5000, seed: 7 });
  t.same(Array.from(a), Array.from(b));
  t.ok(
    a.every((i) => i < keys.length),
    'indices in range',
  );
  const first = a.filter((i) => i === 0).length;
  const last = a.filter((i) => i === 99).length;
  t.ok(first > 10 * Math.max(1, last), `rank 0 read ${first} times, rank 99 ${last}`);
});

t.test('quick params stay smaller than full ones', async (t) => {
  t.ok((QUICK.invalidation.phases[0]?.writes ?? 0) < (FULL.invalidation.phases[0]?.writes ?? 0));
  t.ok(QUICK.reads.traceOps < FULL.reads.traceOps);
  t.equal(FULL.invalidation.phases[0]?.ratePerSec, 10_000, 'the first rate is the one the issue names');
  t.equal(FULL.stampede.calls, 1000);
});

t.test('cacheReport checks the absolute targets and skips BentoCache rows when it did not run', async (t) => {
  const latency = (p99: number) => ({ count: 10, missing: 0, early: 0, p50: p99 / 2, p99, max: p99 });
  const writes = { issued: 100, errors: 0, issueMs: 10, maxInFlight: 3 };
  const read = (opsPerSec: number) => ({ opsPerSec, misses: 0, nearHitRatio: null });
  const report = cacheReport(
    {
      invalidation: {
        shoal: [
          [
            { ratePerSec: 10_000, latency: latency(4), writes, skew: { skewMs: 0, errorMs: 0.1 } },
            { ratePerSec: 1000, latency: latency(9), writes, skew: { skewMs: 0, errorMs: 0.1 } },
          ],
        ],
        bento: null,
      },
      reads: { near: [read(900)], noNear: [read(10)], lru: [read(1000)] },
      stampede: { shoal: [{ loaderCalls: 20, keys: 10, errors: 0, ms: 60 }], bento: null },
    },
    FULL,
  );
  t.equal(
    report.comparisons.filter((c) => c.anchor === 'target 5 ms').length,
    1,
    'the 5 ms target is checked at 10k writes/s only',
  );
  const byAnchor = new Map(report.comparisons.map((c) => [c.anchor, c]));
  t.equal(byAnchor.get('target 5 ms')?.pass, true, 'p99 4 ms meets 5 ms');
  t.equal(byAnchor.get('lru-cache via async function')?.pass, true, '0.9x meets 0.8x');
  t.equal(byAnchor.get('ideal 1 per key')?.pass, false, '2 loader calls per key is a miss');
  t.notOk(
    report.comparisons.some((c) => c.anchor.startsWith('bentocache')),
    'no BentoCache comparison without its runs',
  );
  t.equal(report.tables.length, 3);
});

t.test('CacheWorker runs commands in a child process and reports an unknown one', async (t) => {
  const worker = CacheWorker.spawn('test worker');
  t.teardown(() => worker.kill());
  const keys = ['a', 'b', 'c'];
  const r = await worker.call(
    'lruReads',
    { spec: { keys, zipfS: 0.99, traceOps: 1000, seed: 1, rounds: 2, maxMs: 5000 }, valueBytes: 10 },
    20_000,
  );
  t.equal(r.opsPerSec.length, 2);
  t.equal(r.misses, 0, 'every key was in the cache');
  await t.rejects(worker.call('write', { key: 'k', value: 'v' }, 20_000), /no cache in this worker/);
  await t.rejects(
    (worker.call as (name: string, args: unknown, timeoutMs: number) => Promise<unknown>)('nope', null, 20_000),
    /unknown command nope/,
  );
  await worker.kill();
  await t.rejects(worker.call('dropCount', null, 1000), /exited/);
});
