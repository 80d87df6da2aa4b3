import t from 'tap';
import { SCENARIOS } from '../src/scenarios/index.js';
import {
  ArrivalCounter,
  type BurstResult,
  dueCount,
  LatencyRecorder,
  latencyReceiver,
  monoUs,
  rateTotals,
  readStamp,
  runBurst,
  runFixedRate,
  settleBatch,
  stampValue,
  summarizeLatency,
} from '../src/scenarios/log/log-load.js';
import { consumeRate, fanoutRate, type LogRun } from '../src/scenarios/log/log-runs.js';
import { logSection, rateOf } from '../src/scenarios/log/log-section.js';
import { FULL, QUICK } from '../src/scenarios/log/params.js';
import { streamEntries } from '../src/scenarios/log/redis-log-tasks.js';

t.test('log scenario is registered right after cluster with a description', async (t) => {
  const names = SCENARIOS.map((s) => s.name);
  t.equal(names.indexOf('log'), names.indexOf('cluster') + 1);
  t.match(SCENARIOS.find((s) => s.name === 'log')?.description, /XADD/);
});

t.test('log stamps round-trip at exactly the value size and reject what they did not make', async (t) => {
  const v = stampValue('m', 123456789.4, 100);
  t.equal(v.length, 100);
  t.same(readStamp(v), { kind: 'm', us: 123456789 });
  t.same(readStamp(stampValue('w', 7, 10)), { kind: 'w', us: 7 });
  t.equal(readStamp('probe'), null);
  t.equal(readStamp('m:'), null);
  t.equal(readStamp('mx1:'), null);
  t.equal(readStamp(42), null);
  t.throws(() => stampValue('m', 123456789, 5), RangeError);
});

t.test('log fixed rate counts messages due by elapsed time and splits off the warm-up', async (t) => {
  t.equal(dueCount(0, 2000), 0);
  t.equal(dueCount(-5, 2000), 0);
  t.equal(dueCount(0.4, 2000), 0);
  t.equal(dueCount(0.5, 2000), 1);
  t.equal(dueCount(1000, 2000), 2000);
  t.same(rateTotals({ ratePerSec: 2000, warmupMs: 1000, durationMs: 5000 }), { total: 12_000, warmup: 2000 });
});

t.test('log latency summary gives percentiles of the samples and null without any', async (t) => {
  t.equal(summarizeLatency([]), null);
  const samples = Array.from({ length: 1001 }, (_, i) => 1000 - i); // 0..1000, unsorted
  const s = summarizeLatency(samples);
  const rounded = Object.fromEntries(Object.entries(s ?? {}).map(([k, v]) => [k, Math.round(v * 1e6) / 1e6]));
  t.same(rounded, { count: 1001, p50: 500, p90: 900, p99: 990, p999: 999, max: 1000, mean: 500 });
});

t.test('log latency recorder samples measured stamps only and counts the rest', async (t) => {
  const r = new LatencyRecorder();
  r.add(stampValue('m', 1000, 20), 3500);
  r.add(stampValue('w', 1000, 20), 3500);
  r.add('probe', 3500);
  t.same(r.samplesMs, [2.5]);
  t.equal(r.warmup, 1);
  t.equal(r.unstamped, 1);
});

t.test('log arrival counter stops at its target, when idle, or at its deadline', async (t) => {
  const byTarget = new ArrivalCounter({ target: 3, idleMs: 1000, maxMs: 5000 });
  for (let i = 0; i < 3; i++) byTarget.hit();
  const a = await byTarget.done;
  t.equal(a.reason, 'target');
  t.equal(a.count, 3);
  t.ok(a.firstUs !== null && a.lastUs !== null && a.lastUs >= a.firstUs && a.firstUs >= a.startUs);

  const idle = new ArrivalCounter({ target: 10, idleMs: 30, maxMs: 5000 });
  idle.hit();
  const b = await idle.done;
  t.equal(b.reason, 'idle');
  t.equal(b.count, 1);

  const silent = new ArrivalCounter({ target: 10, idleMs: 20, maxMs: 60 });
  const c = await silent.done;
  t.equal(c.reason, 'deadline', 'idleness only counts after a first message');
  t.equal(c.firstUs, null);

  t.equal((await new ArrivalCounter({ target: 0, idleMs: 10, maxMs: 10 }).done).reason, 'target');
});

t.test('log latency receiver counts every value and samples the measured ones', async (t) => {
  const r = latencyReceiver({ target: 2, idleMs: 1000, maxMs: 5000 });
  r.receive(stampValue('w', monoUs(), 30));
  r.receive(stampValue('m', monoUs(), 30));
  const out = await r.done;
  t.equal(out.count, 2);
  t.equal(out.warmup, 1);
  t.equal(out.latency?.count, 1);
});

t.test('log burst sends its count in windows, counts failures and stops at its time cap', async (t) => {
  const batches: number[] = [];
  const r = await runBurst({ messages: 1050, window: 500, maxMs: 10_000 }, async (n) => {
    batches.push(n);
    return n === 50 ? { errors: 2, firstError: 'boom' } : { errors: 0, firstError: null };
  });
  t.same(batches, [500, 500, 50]);
  t.equal(r.sent, 1050);
  t.equal(r.errors, 2);
  t.equal(r.firstError, 'boom');
  t.equal(r.capped, false);
  t.ok(r.perSec > 0 && r.endUs >= r.startUs);

  const thrown = await runBurst({ messages: 10, window: 10, maxMs: 10_000 }, async () => {
    throw new Error('down');
  });
  t.same([thrown.errors, thrown.firstError, thrown.perSec], [10, 'down', 0]);

  const capped = await runBurst({ messages: 1_000_000, window: 10, maxMs: 30 }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return { errors: 0, firstError: null };
  });
  t.ok(capped.capped && capped.sent < 1_000_000 && capped.sent > 0);

  const settled = await settleBatch([Promise.resolve(1), Promise.reject(new Error('x')), Promise.reject('y')]);
  t.same(settled, { errors: 2, firstError: 'x' });
});

t.test('log fixed-rate producer sends the rate with intended-time stamps, warm-up first', async (t) => {
  const values: string[] = [];
  const r = await runFixedRate(
    { startAt: Date.now(), ratePerSec: 1000, warmupMs: 20, durationMs: 60, valueBytes: 40 },
    async (v) => {
      values.push(v);
      if (values.length === 5) throw new Error('refused');
    },
  );
  t.equal(r.sent, 80);
  t.equal(r.warmup, 20);
  t.equal(r.errors, 1);
  t.equal(r.firstError, 'refused');
  t.equal(r.unsettled, 0);
  const stamps = values.map((v) => readStamp(v));
  t.ok(stamps.slice(0, 20).every((s) => s?.kind === 'w'));
  t.ok(stamps.slice(20).every((s) => s?.kind === 'm'));
  const us = stamps.map((s) => s?.us ?? 0);
  t.equal(us[10]! - us[0]!, 10_000, 'stamps are 1 ms apart at 1000/s, whenever the loop ran');
});

t.test('log stream entries read both XREADGROUP reply shapes', async (t) => {
  const entries = [['1-0', ['v', 'a']]];
  t.same(streamEntries([['s', entries]]), entries);
  t.same(streamEntries(['s', entries]), entries);
  t.same(streamEntries(null), []);
  t.same(streamEntries([]), []);
});

const arrival = (count: number, startUs: number, lastUs: number | null) => ({
  count,
  startUs,
  firstUs: lastUs,
  lastUs,
  reason: 'target' as const,
});

const burst = (perSec: number, startUs = 0): BurstResult => ({
  sent: 1000,
  errors: 0,
  firstError: null,
  startUs,
  endUs: startUs + 1,
  perSec,
  capped: false,
});

function run(rate: number, latencyMs: number, placement: LogRun['placement'] = null): LogRun {
  const latency = summarizeLatency([latencyMs, latencyMs * 2]);
  return {
    append: burst(rate),
    consume: { arrival: arrival(1000, 0, 1000), expected: 1000, perSec: rate * 2, unackedAfter: 0, error: null },
    fanout: { publish: burst(rate * 3), subscribe: arrival(1000, 0, 1000), perSec: rate * 3 },
    latency: {
      produce: { sent: 2, warmup: 0, errors: 0, firstError: null, lateStartMs: 0, unsettled: 0 },
      consume: { ...arrival(2, 0, 10), latency, warmup: 0, unstamped: 0 },
    },
    placement,
  };
}

t.test('log rates: consume from the receiver start, fan-out from the first publish', async (t) => {
  t.equal(consumeRate(arrival(500, 1_000_000, 1_500_000)), 1000);
  t.equal(consumeRate(arrival(0, 1_000_000, null)), 0);
  t.equal(fanoutRate(burst(0, 1_000_000), arrival(2000, 0, 3_000_000)), 1000);
  t.equal(rateOf(run(10, 1), 'fanout'), 30);
});

t.test('log section compares with Redis against 1.0x targets and shows latency without one', async (t) => {
  const shoal = [run(100, 2, { partitions: 8, producerLeads: 3, consumerLeads: 2 }), run(120, 4, null)];
  const redis = [run(100, 1), run(100, 1)];
  const s = logSection({ shoal, redis, redisVersion: '7.0.15' }, QUICK);
  t.same(
    s.comparisons.map((c) => [c.group, c.ratio, c.pass]),
    [
      ['log', 1.1, true],
      ['log', 1.1, true],
      ['pubsub', 1.1, true],
      ['latency', 3, null],
      ['latency', 3, null],
    ],
  );
  t.equal(s.tables.length, 2);
  t.same(
    s.charts.map((c) => c.name),
    ['throughput', 'latency'],
  );
  t.ok(s.notes.some((n) => /producer's node, per run: 3/.test(n)));

  const alone = logSection({ shoal, redis: null, redisVersion: null }, FULL);
  t.equal(alone.comparisons.length, 0);
  t.equal(alone.tables[0]?.rows.length, 1);
  t.match(alone.tables[0]?.rows[0]?.[2], /n\/a/);
});
