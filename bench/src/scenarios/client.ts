/**
 * Scenario `client`: @shoal/client against one Shoal node (the `shoal`
 * binary, a child process) beside ioredis against Redis (Debian's
 * redis-server, started and stopped by the bench), same machine, same keys,
 * value size and concurrency. Every run puts each contender's load generator
 * in a fresh child process: gets with 64 calls in flight (ioredis plain and
 * with enableAutoPipelining), gets in batches of 100, and gets on a Zipf(0.99)
 * mix at 64 in flight, for Shoal also through a client with its near cache
 * on. Sequential get latency is measured in one more process per run, every
 * contender interleaved in blocks, beside the zero-work echo floors of the
 * transports (client-latency-task.ts). Medians across runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type Comparison, compare, type Target } from '../lib/compare.js';
import type { EchoFloorPorts } from '../lib/echo-floor-server.js';
import { type RedisServer, redisBinary, startRedisServer } from '../lib/redis-anchor.js';
import { summarize } from '../lib/stats.js';
import { type ChartFile, lineChart } from '../report/svg-chart.js';
import type { TableSpec } from '../report/table.js';
import { runTask } from '../runner/child-runner.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import {
  type ClientLatencyInput,
  type ClientLatencyResult,
  floorReplyBytes,
  type LatencySubject,
  type SubjectLatency,
} from './client-latency-task.js';
import type { ClientContender, ClientLoadInput, ClientLoadResult, SweepPoint } from './client-load-task.js';

interface ClientParams {
  readonly keys: number;
  readonly valueBytes: number;
  /** Sequential latency: samples per subject, block size, warm-up calls, deadline. */
  readonly latency: {
    readonly gets: number;
    readonly block: number;
    readonly warmupGets: number;
    readonly maxMs: number;
  };
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly batch: number;
  readonly sweep: readonly number[];
}

const FULL: ClientParams = {
  keys: 10_000,
  valueBytes: 100,
  latency: { gets: 20_000, block: 500, warmupGets: 5000, maxMs: 60_000 },
  inFlight: 64,
  warmupMs: 1000,
  durationMs: 4000,
  batch: 100,
  sweep: [1, 16, 64, 256],
};

const QUICK: ClientParams = {
  keys: 1000,
  valueBytes: 100,
  latency: { gets: 1000, block: 100, warmupGets: 300, maxMs: 10_000 },
  inFlight: 64,
  warmupMs: 200,
  durationMs: 500,
  batch: 100,
  sweep: [1, 64],
};

const TASK = new URL('./client-load-task.js', import.meta.url);
const LATENCY_TASK = new URL('./client-latency-task.js', import.meta.url);
const SHOAL_BIN = new URL('../../../../packages/node/dist/src/cli/main.js', import.meta.url).pathname;
const ECHO_FLOOR_BIN = new URL('../lib/echo-floor-server.js', import.meta.url).pathname;

/** A server child process that printed `ready <json>`; `stop` kills it by pid. */
interface ReadyChild<T> {
  readonly ready: T;
  readonly pid: number | null;
  stop(): Promise<void>;
}

/** Spawns `node <args>` and resolves once it prints its `ready <json>` line (20 s at most). */
async function startReadyChild<T>(args: readonly string[], what: string): Promise<ReadyChild<T>> {
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const ready = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} not ready in 20 s: ${stderr}`)), 20_000);
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (!line.startsWith('ready ')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as T);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited with ${code}: ${stderr}`));
      });
    });
    return { ready, pid: child.pid ?? null, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One Shoal node as a child process of the `shoal` binary. */
async function startShoalNode(): Promise<{ url: string; pid: number | null; stop: () => Promise<void> }> {
  const node = await startReadyChild<{ address: string }>(
    [SHOAL_BIN, 'start', '--port', '0', '--node-id', 'bench-client', '--log-level', 'error', '--replicas', '1'],
    'shoal node',
  );
  return { url: `ws://${node.ready.address}`, pid: node.pid, stop: () => node.stop() };
}

function measure(
  p: ClientParams,
  contender: ClientContender,
  target: string | number,
  serverPid: number | null,
): Promise<ClientLoadResult> {
  const input: ClientLoadInput = { contender, target, serverPid, ...p };
  const budget = (4 + p.sweep.length) * (p.warmupMs + p.durationMs) + 60_000;
  return runTask<ClientLoadInput, ClientLoadResult>({
    module: TASK,
    exportName: 'clientLoad',
    input,
    timeoutMs: budget,
  });
}

function measureLatency(
  p: ClientParams,
  shoalUrl: string,
  redisPort: number | null,
  floor: EchoFloorPorts | null,
): Promise<ClientLatencyResult> {
  const input: ClientLatencyInput = {
    shoalUrl,
    redisPort,
    floor,
    keys: p.keys,
    valueBytes: p.valueBytes,
    ...p.latency,
  };
  return runTask<ClientLatencyInput, ClientLatencyResult>({
    module: LATENCY_TASK,
    exportName: 'clientLatency',
    input,
    timeoutMs: p.latency.maxMs + 120_000,
  });
}

type Runs = Record<ClientContender, ClientLoadResult[]>;

async function runAll(ctx: ScenarioContext, p: ClientParams, redisBin: string | null) {
  const runs: Runs = { shoal: [], ioredis: [], 'ioredis-auto': [] };
  const latency: ClientLatencyResult[] = [];
  let redis: RedisServer | null = null;
  let redisError: string | null = null;
  let floorError: string | null = null;
  let floor: ReadyChild<EchoFloorPorts> | null = null;
  const node = await ctx.progress.step('shoal node start', () => startShoalNode());
  try {
    try {
      floor = await ctx.progress.step('echo floor start', () =>
        startReadyChild<EchoFloorPorts>([ECHO_FLOOR_BIN, String(floorReplyBytes(p.valueBytes))], 'echo floor'),
      );
    } catch (err) {
      floorError = `echo floor skipped: ${(err as Error).message}`;
    }
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
      // after the load runs: the node has then served a few million gets, like a node in service
      latency.push(
        await ctx.progress.step(`sequential latency run ${run + 1}/${ctx.runs}`, () =>
          measureLatency(p, node.url, redis?.port ?? null, floor?.ready ?? null),
        ),
      );
    }
  } finally {
    // every child is stopped even if stopping another fails
    await Promise.allSettled([redis?.stop(), floor?.stop(), node.stop()]);
  }
  return { runs, latency, redisVersion: redis?.version ?? null, redisError, floorError };
}

/** Load process + server CPU per get at 64 in flight, µs (NaN when the server's CPU could not be read). */
const cpuPerGet = (r: ClientLoadResult) => r.inFlightLoadCpuUs + (r.inFlightServerCpuUs ?? Number.NaN);

const pick = (results: readonly ClientLoadResult[], f: (r: ClientLoadResult) => number) => summarize(results.map(f));

/** One subject's figure in every latency run that measured it. */
const latencyOf = (
  latency: readonly ClientLatencyResult[],
  subject: LatencySubject,
  f: (l: SubjectLatency) => number,
) => summarize(latency.flatMap((r) => (r.subjects[subject] === undefined ? [] : [f(r.subjects[subject])])));

const LATENCY_NAMES: Record<LatencySubject, string> = {
  shoal: '@shoal/client→shoal',
  ioredis: 'ioredis→redis',
  'ws-floor': 'ws echo, no work (Node.js)',
  'tcp-floor': 'TCP echo, no work (Node.js)',
};

/** Sequential latency rows: Shoal against ioredis (the target), and what the transports cost with no work at all. */
function latencyComparisons(latency: readonly ClientLatencyResult[]): Comparison[] {
  const has = (subject: LatencySubject) => latency.some((r) => r.subjects[subject] !== undefined);
  if (!has('ioredis')) return [];
  const row = (subject: LatencySubject, anchor: LatencySubject, quantile: 'p50' | 'p99', target?: Target) =>
    compare({
      group: 'client',
      metric: `sequential get ${quantile}, interleaved`,
      unit: 'us',
      subject: LATENCY_NAMES[subject],
      anchor: LATENCY_NAMES[anchor],
      subjectValue: latencyOf(latency, subject, (l) => (quantile === 'p50' ? l.p50Us : l.p99Us)),
      anchorValue: latencyOf(latency, anchor, (l) => (quantile === 'p50' ? l.p50Us : l.p99Us)),
      ...(target === undefined ? {} : { target }),
    });
  const out = [row('shoal', 'ioredis', 'p50'), row('shoal', 'ioredis', 'p99', { on: 'ratio', op: '<=', value: 1 })];
  for (const floor of ['ws-floor', 'tcp-floor'] as const) {
    if (has(floor)) out.push(row(floor, 'ioredis', 'p50'), row(floor, 'ioredis', 'p99'));
  }
  if (has('ws-floor')) out.push(row('shoal', 'ws-floor', 'p50'), row('shoal', 'ws-floor', 'p99'));
  return out;
}

function comparisons(runs: Runs, latency: readonly ClientLatencyResult[]): Comparison[] {
  if (runs.ioredis.length === 0) return [];
  const out: Comparison[] = [...latencyComparisons(latency)];
  const base = { subject: '@shoal/client→shoal' };
  out.push(
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
      { header: '64 in flight ops/s', align: 'right' },
      { header: 'CPU µs/get load / server', align: 'right' },
      { header: 'batch 100 ops/s', align: 'right' },
      { header: 'errors', align: 'right' },
    ],
    rows,
  };
}

/** Sequential latency of every subject, medians across the interleaved runs. */
function latencyTable(latency: readonly ClientLatencyResult[]): TableSpec {
  const subjects = (Object.keys(LATENCY_NAMES) as LatencySubject[]).filter((s) =>
    latency.some((r) => r.subjects[s] !== undefined),
  );
  const us = (s: LatencySubject, f: (l: SubjectLatency) => number) => latencyOf(latency, s, f).median.toFixed(1);
  return {
    title:
      'client: sequential get latency, every subject interleaved in blocks in one process (µs, medians across runs)',
    columns: [
      { header: 'subject' },
      { header: 'samples/run', align: 'right' },
      { header: 'p50', align: 'right' },
      { header: 'p90', align: 'right' },
      { header: 'p99', align: 'right' },
      { header: 'p99.9', align: 'right' },
    ],
    rows: subjects.map((s) => [
      LATENCY_NAMES[s],
      String(Math.round(latencyOf(latency, s, (l) => l.samples).median)),
      us(s, (l) => l.p50Us),
      us(s, (l) => l.p90Us),
      us(s, (l) => l.p99Us),
      us(s, (l) => l.p999Us),
    ]),
  };
}

const NAMES: Record<ClientContender, string> = {
  shoal: '@shoal/client',
  ioredis: 'ioredis',
  'ioredis-auto': 'ioredis auto-pipelined',
};

const contendersIn = (runs: Runs) => (Object.keys(runs) as ClientContender[]).filter((c) => runs[c].length > 0);

/** Throughput vs calls in flight, and the sequential get latency CDF, medians across runs. */
function charts(runs: Runs, latency: readonly ClientLatencyResult[], p: ClientParams): ChartFile[] {
  const throughput = contendersIn(runs).map((c) => ({
    name: NAMES[c],
    points: p.sweep.map(
      (level, i) => [level, pick(runs[c], (r) => r.sweep[i]?.opsPerSec ?? Number.NaN).median] as const,
    ),
  }));
  const quantile = (s: LatencySubject, i: number) =>
    latencyOf(latency, s, (l) => l.quantilesUs[i] ?? Number.NaN).median;
  const cdf = (Object.keys(LATENCY_NAMES) as LatencySubject[])
    .filter((s) => latency.some((r) => r.subjects[s] !== undefined))
    .map((s) => ({
      name: LATENCY_NAMES[s],
      // quantiles 1-99 and 99.9 (the minimum and maximum of a run say little), on a log latency axis
      points: [
        ...Array.from({ length: 99 }, (_, i) => [quantile(s, i + 1), (i + 1) / 100] as const),
        [quantile(s, 101), 0.999] as const,
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
    '@shoal/client vs ioredis→Redis on one machine: sequential get p50/p99 (interleaved, beside the zero-work echo floors of ws and TCP), gets at 64 in flight (vs ioredis plain and auto-pipelined), gets in batches of 100, Zipf reads with the near cache.',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const p = ctx.quick ? QUICK : FULL;
    const anchor = redisBinary(ctx, 'client anchor');
    const redisBin = 'bin' in anchor ? anchor.bin : null;
    // node and echo floor start, a latency run per run, then each contender's load runs
    ctx.progress.start(2 + ctx.runs + (redisBin === null ? ctx.runs : 1 + 3 * ctx.runs));
    const data = await runAll(ctx, p, redisBin);
    const notes: string[] = [];
    if ('skipped' in anchor) notes.push(anchor.skipped);
    if (data.redisError !== null) notes.push(data.redisError);
    if (data.floorError !== null) notes.push(data.floorError);
    const latencyFailed = data.latency.find((r) => r.errors > 0);
    if (latencyFailed !== undefined) {
      notes.push(`sequential latency: ${latencyFailed.errors} failed calls in a run (${latencyFailed.firstError})`);
    }
    for (const [name, results] of Object.entries(data.runs)) {
      const failed = results.find((r) => r.errors > 0);
      if (failed !== undefined) notes.push(`${name}: ${failed.errors} failed calls in a run (${failed.firstError})`);
    }
    notes.push(
      `sequential latency: one process per run holds every client and takes ${p.latency.block} sequential gets from each in turn (rotating who goes first) until each has ${p.latency.gets}, after ${p.latency.warmupGets} unmeasured gets each, so the machine's slow and fast phases fall on all alike; the echo floors are a Node.js server answering each WebSocket message or TCP read with a ${floorReplyBytes(p.valueBytes)}-byte reply (a get's reply size) and doing nothing else: the least a round trip over that transport costs on this machine`,
    );
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
      comparisons: comparisons(data.runs, data.latency),
      tables: [latencyTable(data.latency), table(data.runs), sweepTable(data.runs, p)],
      charts: charts(data.runs, data.latency, p),
      notes,
      data,
    };
  },
};
