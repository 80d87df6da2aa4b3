/**
 * Scenario `client`: @shoal/client against one Shoal node (the `shoal`
 * binary, a child process) beside ioredis against Redis (Debian's
 * redis-server, started and stopped by the bench), same machine, same keys,
 * value size and concurrency. Every run puts each contender's load generator
 * in a fresh child process: sequential get p50/p99, gets with 64 calls in
 * flight (ioredis plain and with enableAutoPipelining), gets in batches of
 * 100, and gets on a Zipf(0.99) mix at 64 in flight, for Shoal also through
 * a client with its near cache on. Medians across runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type Comparison, compare } from '../lib/compare.js';
import { type RedisServer, redisBinary, startRedisServer } from '../lib/redis-anchor.js';
import { summarize } from '../lib/stats.js';
import { type ChartFile, lineChart } from '../report/svg-chart.js';
import type { TableSpec } from '../report/table.js';
import { runTask } from '../runner/child-runner.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import type { ClientContender, ClientLoadInput, ClientLoadResult, SweepPoint } from './client-load-task.js';

interface ClientParams {
  readonly keys: number;
  readonly valueBytes: number;
  readonly sequentialGets: number;
  readonly sequentialMaxMs: number;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly batch: number;
  readonly sweep: readonly number[];
}

const FULL: ClientParams = {
  keys: 10_000,
  valueBytes: 100,
  sequentialGets: 20_000,
  sequentialMaxMs: 20_000,
  inFlight: 64,
  warmupMs: 1000,
  durationMs: 4000,
  batch: 100,
  sweep: [1, 16, 64, 256],
};

const QUICK: ClientParams = {
  keys: 1000,
  valueBytes: 100,
  sequentialGets: 1000,
  sequentialMaxMs: 3000,
  inFlight: 64,
  warmupMs: 200,
  durationMs: 500,
  batch: 100,
  sweep: [1, 64],
};

const TASK = new URL('./client-load-task.js', import.meta.url);
const SHOAL_BIN = new URL('../../../../packages/node/dist/src/cli/main.js', import.meta.url).pathname;

/** One Shoal node as a child process of the `shoal` binary; resolves on its ready line. */
async function startShoalNode(): Promise<{ url: string; pid: number | null; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [SHOAL_BIN, 'start', '--port', '0', '--node-id', 'bench-client', '--log-level', 'error', '--replicas', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  };
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`shoal node not ready in 20 s: ${stderr}`)), 20_000);
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (!line.startsWith('ready ')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line.slice(6)) as { address: string }).address);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`shoal node exited with ${code}: ${stderr}`));
      });
    });
    return { url: `ws://${address}`, pid: child.pid ?? null, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function measure(
  p: ClientParams,
  contender: ClientContender,
  target: string | number,
  serverPid: number | null,
): Promise<ClientLoadResult> {
  const input: ClientLoadInput = { contender, target, serverPid, ...p };
  const budget = p.sequentialMaxMs + (4 + p.sweep.length) * (p.warmupMs + p.durationMs) + 60_000;
  return runTask<ClientLoadInput, ClientLoadResult>({
    module: TASK,
    exportName: 'clientLoad',
    input,
    timeoutMs: budget,
  });
}

type Runs = Record<ClientContender, ClientLoadResult[]>;

async function runAll(ctx: ScenarioContext, p: ClientParams, redisBin: string | null) {
  const runs: Runs = { shoal: [], ioredis: [], 'ioredis-auto': [] };
  let redis: RedisServer | null = null;
  let redisError: string | null = null;
  const node = await ctx.progress.step('shoal node start', () => startShoalNode());
  try {
    if (redisBin !== null) {
      try {
        redis = await ctx.progress.step('redis-server start', () => startRedisServer(redisBin));
      } catch (err) {
        redisError = `client anchor skipped: ${(err as Error).message}`;
      }
    }
    const contenders: ClientContender[] = redis === null ? ['shoal'] : ['shoal', 'ioredis', 'ioredis-auto'];
    for (let run = 0; run < ctx.runs; run++) {
      // rotate who goes first, so no contender always meets the same machine state
      const order = contenders.map((_, i) => contenders[(i + run) % contenders.length] as ClientContender);
      for (const c of order) {
        const target = c === 'shoal' ? node.url : (redis as RedisServer).port;
        const pid = c === 'shoal' ? node.pid : (redis as RedisServer).pid;
        runs[c].push(await ctx.progress.step(`${c} run ${run + 1}/${ctx.runs}`, () => measure(p, c, target, pid)));
      }
    }
  } finally {
    await redis?.stop();
    await node.stop();
  }
  return { runs, redisVersion: redis?.version ?? null, redisError };
}

/** Load process + server CPU per get at 64 in flight, µs (NaN when the server's CPU could not be read). */
const cpuPerGet = (r: ClientLoadResult) => r.inFlightLoadCpuUs + (r.inFlightServerCpuUs ?? Number.NaN);

const pick = (results: readonly ClientLoadResult[], f: (r: ClientLoadResult) => number) => summarize(results.map(f));

function comparisons(runs: Runs): Comparison[] {
  if (runs.ioredis.length === 0) return [];
  const out: Comparison[] = [];
  const base = { subject: '@shoal/client→shoal' };
  out.push(
    compare({
      ...base,
      group: 'client',
      metric: 'sequential get p50',
      unit: 'us',
      anchor: 'ioredis→redis',
      subjectValue: pick(runs.shoal, (r) => r.sequentialP50Us),
      anchorValue: pick(runs.ioredis, (r) => r.sequentialP50Us),
    }),
    compare({
      ...base,
      group: 'client',
      metric: 'sequential get p99',
      unit: 'us',
      anchor: 'ioredis→redis',
      subjectValue: pick(runs.shoal, (r) => r.sequentialP99Us),
      anchorValue: pick(runs.ioredis, (r) => r.sequentialP99Us),
      target: { on: 'ratio', op: '<=', value: 1 },
    }),
    compare({
      ...base,
      group: 'client',
      metric: 'get, 64 in flight',
      unit: 'ops/s',
      anchor: 'ioredis→redis',
      subjectValue: pick(runs.shoal, (r) => r.inFlightOpsPerSec),
      anchorValue: pick(runs.ioredis, (r) => r.inFlightOpsPerSec),
      target: { on: 'ratio', op: '>=', value: 1.5 },
    }),
    compare({
      ...base,
      group: 'client',
      metric: 'get, 64 in flight',
      unit: 'ops/s',
      anchor: 'ioredis auto-pipelined→redis',
      subjectValue: pick(runs.shoal, (r) => r.inFlightOpsPerSec),
      anchorValue: pick(runs['ioredis-auto'], (r) => r.inFlightOpsPerSec),
      target: { on: 'ratio', op: '>=', value: 1.2 },
    }),
    compare({
      ...base,
      group: 'client',
      metric: 'CPU per get at 64 in flight, load process + server',
      unit: 'us',
      anchor: 'ioredis→redis',
      subjectValue: pick(runs.shoal, cpuPerGet),
      anchorValue: pick(runs.ioredis, cpuPerGet),
    }),
    compare({
      subject: '@shoal/client with near cache',
      group: 'client',
      metric: 'get, Zipf 0.99, 64 in flight',
      unit: 'ops/s',
      anchor: 'ioredis→redis',
      subjectValue: pick(runs.shoal, (r) => r.zipfNearOpsPerSec ?? 0),
      anchorValue: pick(runs.ioredis, (r) => r.zipfOpsPerSec),
      target: { on: 'ratio', op: '>=', value: 10 },
    }),
    compare({
      ...base,
      group: 'client',
      metric: 'get, Zipf 0.99, 64 in flight',
      unit: 'ops/s',
      anchor: 'ioredis→redis',
      subjectValue: pick(runs.shoal, (r) => r.zipfOpsPerSec),
      anchorValue: pick(runs.ioredis, (r) => r.zipfOpsPerSec),
    }),
    compare({
      ...base,
      group: 'client',
      metric: 'get, batches of 100',
      unit: 'ops/s',
      anchor: 'ioredis pipeline→redis',
      subjectValue: pick(runs.shoal, (r) => r.batchOpsPerSec),
      anchorValue: pick(runs.ioredis, (r) => r.batchOpsPerSec),
    }),
  );
  return out;
}

function table(runs: Runs): TableSpec {
  const row = (name: string, results: readonly ClientLoadResult[]) => {
    const m = (f: (r: ClientLoadResult) => number) => pick(results, f).median;
    return [
      name,
      String(results.length),
      (m((r) => r.sequentialP50Us) / 1000).toFixed(3),
      (m((r) => r.sequentialP99Us) / 1000).toFixed(3),
      Math.round(m((r) => r.inFlightOpsPerSec)).toLocaleString('en-US'),
      `${m((r) => r.inFlightLoadCpuUs).toFixed(2)} / ${m((r) => r.inFlightServerCpuUs ?? Number.NaN).toFixed(2)}`,
      Math.round(m((r) => r.batchOpsPerSec)).toLocaleString('en-US'),
      String(results.reduce((s, r) => s + r.errors, 0)),
    ];
  };
  const rows = [row('@shoal/client → shoal node', runs.shoal)];
  if (runs.ioredis.length > 0) rows.push(row('ioredis → redis', runs.ioredis));
  if (runs['ioredis-auto'].length > 0) rows.push(row('ioredis auto-pipelined → redis', runs['ioredis-auto']));
  return {
    title: 'client: medians across runs (each run a fresh load-generator process)',
    columns: [
      { header: 'client' },
      { header: 'runs', align: 'right' },
      { header: 'seq get p50 ms', align: 'right' },
      { header: 'seq get p99 ms', align: 'right' },
      { header: '64 in flight ops/s', align: 'right' },
      { header: 'CPU µs/get load / server', align: 'right' },
      { header: 'batch 100 ops/s', align: 'right' },
      { header: 'errors', align: 'right' },
    ],
    rows,
  };
}

const NAMES: Record<ClientContender, string> = {
  shoal: '@shoal/client',
  ioredis: 'ioredis',
  'ioredis-auto': 'ioredis auto-pipelined',
};

const contendersIn = (runs: Runs) => (Object.keys(runs) as ClientContender[]).filter((c) => runs[c].length > 0);

/** Throughput vs calls in flight, and the sequential get latency CDF, medians across runs. */
function charts(runs: Runs, p: ClientParams): ChartFile[] {
  const throughput = contendersIn(runs).map((c) => ({
    name: NAMES[c],
    points: p.sweep.map(
      (level, i) => [level, pick(runs[c], (r) => r.sweep[i]?.opsPerSec ?? Number.NaN).median] as const,
    ),
  }));
  const cdf = contendersIn(runs).map((c) => ({
    name: NAMES[c],
    // quantiles 1-99 and 99.9 (the minimum and maximum of a run say little), on a log latency axis
    points: [
      ...Array.from(
        { length: 99 },
        (_, i) => [pick(runs[c], (r) => r.sequentialQuantilesUs[i + 1] ?? Number.NaN).median, (i + 1) / 100] as const,
      ),
      [pick(runs[c], (r) => r.sequentialQuantilesUs[101] ?? Number.NaN).median, 0.999] as const,
    ],
  }));
  return [
    {
      name: 'throughput-vs-concurrency',
      title: 'client: gets/s vs calls in flight',
      svg: lineChart({
        title: 'client: gets/s vs calls in flight (median of runs)',
        xLabel: 'calls in flight',
        yLabel: 'gets/s',
        xScale: 'log',
        series: throughput,
        formatY: (y) => `${Math.round(y / 1000)}k`,
      }),
    },
    {
      name: 'latency-cdf',
      title: 'client: sequential get latency CDF',
      svg: lineChart({
        title: 'client: sequential get latency CDF, p1-p99.9 (median of runs per quantile)',
        xLabel: 'latency (µs)',
        yLabel: 'fraction of gets',
        series: cdf,
        xScale: 'log',
        xTicks: [10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
        yMin: 0,
        yMax: 1,
        formatX: (x) => `${Math.round(x)}`,
      }),
    },
  ];
}

function sweepTable(runs: Runs, p: ClientParams): TableSpec {
  const rows: string[][] = [];
  for (const c of contendersIn(runs)) {
    p.sweep.forEach((level, i) => {
      const m = (f: (s: SweepPoint) => number) =>
        pick(runs[c], (r) => (r.sweep[i] === undefined ? Number.NaN : f(r.sweep[i] as SweepPoint))).median;
      rows.push([
        NAMES[c],
        String(level),
        Math.round(m((s) => s.opsPerSec)).toLocaleString('en-US'),
        (m((s) => s.p50Us) / 1000).toFixed(3),
        (m((s) => s.p99Us) / 1000).toFixed(3),
        (m((s) => s.p999Us) / 1000).toFixed(3),
      ]);
    });
  }
  return {
    title: 'client: concurrency sweep, medians across runs (latency per call, ms)',
    columns: [
      { header: 'client' },
      { header: 'in flight', align: 'right' },
      { header: 'gets/s', align: 'right' },
      { header: 'p50 ms', align: 'right' },
      { header: 'p99 ms', align: 'right' },
      { header: 'p99.9 ms', align: 'right' },
    ],
    rows,
  };
}

export const client: Scenario = {
  name: 'client',
  description:
    '@shoal/client vs ioredis→Redis on one machine: sequential get p50/p99, gets at 64 in flight (vs ioredis plain and auto-pipelined), gets in batches of 100, Zipf reads with the near cache.',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const anchor = redisBinary(ctx, 'client anchor');
    const redisBin = 'bin' in anchor ? anchor.bin : null;
    ctx.progress.start(1 + (redisBin === null ? ctx.runs : 1 + 3 * ctx.runs));
    const data = await runAll(ctx, p, redisBin);
    const notes: string[] = [];
    if ('skipped' in anchor) notes.push(anchor.skipped);
    if (data.redisError !== null) notes.push(data.redisError);
    for (const [name, results] of Object.entries(data.runs)) {
      const failed = results.find((r) => r.errors > 0);
      if (failed !== undefined) notes.push(`${name}: ${failed.errors} failed calls in a run (${failed.firstError})`);
    }
    notes.push(
      'the Shoal side is one node with replicas 1 (Redis is one server); the load generator, the node and redis-server share the machine',
    );
    notes.push(
      'CPU per get: user + system CPU of the load process (process.cpuUsage) and of the server process (/proc/<pid>/stat) over the whole 64-in-flight phase, warm-up included, divided by the gets completed in it; steadier than ops/s on a loaded machine',
    );
    const hit = pick(data.runs.shoal, (r) => r.zipfNearHitRatio ?? 0).median;
    notes.push(
      `near cache on the Zipf mix: a second client with nearCache { maxEntries: keys } reads the same trace; hit ratio ${(hit * 100).toFixed(1)}% (its first reads fill it during the warm-up)`,
    );
    return {
      params: { runs: ctx.runs, quick: ctx.quick, redisVersion: data.redisVersion, ...p },
      comparisons: comparisons(data.runs),
      tables: [table(data.runs), sweepTable(data.runs, p)],
      charts: charts(data.runs, p),
      notes,
      data,
    };
  },
};
