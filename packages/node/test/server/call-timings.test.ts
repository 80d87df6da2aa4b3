import { Histogram, Registry } from 'prom-client';
import t from 'tap';
import { CallTimings, CallTimingsHistogram } from '../../src/server/call-timings.js';

const BOUNDS = [0.0001, 0.001, 0.01, 0.1, 1];

t.test('CallTimingsHistogram scrapes exactly what a prom-client Histogram observing every call shows', async (t) => {
  const lazyRegistry = new Registry();
  const eagerRegistry = new Registry();
  for (const r of [lazyRegistry, eagerRegistry]) r.setDefaultLabels({ node: 'n1' });
  const timings = new CallTimings(BOUNDS);
  new CallTimingsHistogram(timings, 'calls_seconds', 'calls', lazyRegistry);
  const eager = new Histogram({
    name: 'calls_seconds',
    help: 'calls',
    labelNames: ['op', 'result'],
    buckets: BOUNDS,
    registers: [eagerRegistry],
  });
  // values on bucket bounds, between them and past the last one, successes and failures
  const calls: [string, string, number][] = [];
  for (let i = 0; i < 500; i++) {
    const seconds = [0.00005, 0.0001, 0.0007, 0.01, 0.05, 0.3, 2][i % 7] as number;
    calls.push([i % 3 === 0 ? 'set' : 'get', i % 11 === 0 ? 'SHOAL_REQUEST_TIMEOUT' : 'ok', seconds]);
  }
  for (const [op, result, seconds] of calls) {
    timings.record(op, result, seconds);
    eager.observe({ op, result }, seconds);
  }
  const sortedLines = async (r: Registry) => (await r.metrics()).split('\n').sort();
  const lazy = await sortedLines(lazyRegistry);
  t.same(lazy, await sortedLines(eagerRegistry), 'same Prometheus text');
  t.ok(
    lazy.some((l) => l.startsWith('calls_seconds_count{') && l.includes('op="get"') && l.includes('result="ok"')),
    'the text has a count line per series',
  );
  const json = async (r: Registry) => JSON.stringify((await r.getMetricsAsJSON())[0]?.values.length);
  t.equal(await json(lazyRegistry), await json(eagerRegistry), 'same number of JSON values');
});

t.test('CallTimings counts a call past the last bound only in +Inf, sum and count', async (t) => {
  const timings = new CallTimings(BOUNDS);
  timings.record('get', 'ok', 7);
  const [series] = [...timings.allSeries()];
  t.equal(series?.count, 1);
  t.equal(series?.sum, 7);
  t.same([...(series?.buckets ?? [])], [0, 0, 0, 0, 0]);
});
