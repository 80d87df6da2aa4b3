import t from 'tap';
import { alternatingSteps, type RedisAnchor, runAlternating } from '../src/lib/alternating-runs.js';
import { cpuPerOpUs, summarizePresent } from '../src/lib/cpu-cost.js';
import { cpuDeltaUs, cpuInWindow, parseProcStat, processCpuUs } from '../src/lib/process-cpu.js';
import { findOnPath } from '../src/lib/redis-anchor.js';
import type { Progress } from '../src/report/progress.js';

const steps: string[] = [];
const progress: Progress = {
  start() {},
  async step(label, fn) {
    steps.push(label);
    return fn();
  },
  finish() {},
};

t.test('process CPU parses utime and stime after the last parenthesis of the command name', async (t) => {
  const line = '4242 (redis (x) y) S 1 4242 4242 0 -1 4194560 310 0 0 0 1234 567 0 0 20 0 5 0 100 1000 200';
  t.same(parseProcStat(line), { utimeTicks: 1234, stimeTicks: 567 });
  t.equal(parseProcStat('no parenthesis here'), null);
  t.equal(parseProcStat('1 (x) S 1 2'), null, 'too few fields');
  t.equal(parseProcStat('1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 2'), null, 'negative ticks');
});

t.test('process CPU of this process grows with work and is null for a pid that does not exist', async (t) => {
  const before = processCpuUs(process.pid);
  if (before === null) {
    t.comment('no /proc on this platform');
    return;
  }
  const until = performance.now() + 200;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const after = processCpuUs(process.pid) as number;
  t.ok(after - before >= 50_000, `busy 200 ms used ${after - before} µs (>= 50 ms at 10 ms ticks)`);
  t.equal(processCpuUs(2 ** 22 + 12345), null);
  t.equal(cpuDeltaUs([1, 2], [11, 32]), 40);
  t.equal(cpuDeltaUs([1, null], [11, 32]), null);
  const now = Date.now();
  const idle = await cpuInWindow([process.pid], now, now + 300);
  t.ok(idle !== null && idle < 150_000, `an idle 300 ms window used ${idle} µs`);
});

t.test('CPU per op is null without a reading or without operations', async (t) => {
  t.equal(cpuPerOpUs(5000, 1000), 5);
  t.equal(cpuPerOpUs(null, 1000), null);
  t.equal(cpuPerOpUs(5000, 0), null);
  t.equal(summarizePresent([1, null, 3]), null);
  t.equal(summarizePresent([]), null);
  t.equal(summarizePresent([1, 5, 3])?.median, 3);
});

t.test('alternating runs without redis-server run Shoal alone and keep the reason', async (t) => {
  steps.length = 0;
  const anchor: RedisAnchor = { bin: null, skipped: 'anchor skipped: not installed' };
  t.equal(alternatingSteps(3, anchor), 3);
  const r = await runAlternating({ progress }, anchor, 'x anchor', 3, {
    label: 'x',
    shoal: async (run) => `s${run}`,
    anchor: async () => {
      throw new Error('must not run');
    },
  });
  t.same(r.shoal, ['s0', 's1', 's2']);
  t.equal(r.anchor, null);
  t.equal(r.note, 'anchor skipped: not installed');
  t.same(steps, ['x shoal run 1/3', 'x shoal run 2/3', 'x shoal run 3/3']);
});

const redisBin = findOnPath('redis-server');
t.test(
  'alternating runs start one redis-server, alternate who goes first and kill the server at the end',
  { skip: redisBin === null ? 'redis-server is not on PATH' : false },
  async (t) => {
    steps.length = 0;
    const anchor: RedisAnchor = { bin: redisBin, skipped: null };
    t.equal(alternatingSteps(3, anchor), 7);
    const order: string[] = [];
    const pids = new Set<number>();
    const r = await runAlternating({ progress }, anchor, 'x anchor', 3, {
      label: '',
      shoal: async (run) => {
        order.push(`s${run}`);
        return run;
      },
      anchor: async (server, run) => {
        order.push(`r${run}`);
        pids.add(server.pid);
        return (processCpuUs(server.pid) ?? -1) >= 0;
      },
    });
    t.same(order, ['s0', 'r0', 'r1', 's1', 's2', 'r2']);
    t.same(r.anchor, [true, true, true], 'the server CPU is readable while it runs');
    t.equal(pids.size, 1, 'one server for the whole loop');
    t.match(r.anchorVersion, /^\d+\.\d+/);
    t.equal(steps.length, 7);
    t.equal(steps[0], 'redis-server start');
    t.equal(processCpuUs([...pids][0] as number), null, 'the server is gone after the loop');
  },
);
