/**
 * Report of the cluster throughput: Shoal's three embedded nodes against the
 * Redis anchor (when it ran), aggregate get+set ops/s per run, medians with
 * min-max, and no target (the two keep different numbers of copies).
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { cpuPerOpUs, summarizePresent } from '../../lib/cpu-cost.js';
import { type Summary, summarize } from '../../lib/stats.js';
import { formatRatio, formatSi, formatSummary } from '../../report/format.js';
import { barChart, type ChartFile } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import type { ThroughputRun } from './cluster-throughput.js';
import { right, type Section } from './section.js';

export interface ThroughputData {
  readonly shoal: readonly ThroughputRun[];
  /** null: the anchor did not run (the reason is in the notes). */
  readonly redis: readonly ThroughputRun[] | null;
  readonly redisVersion: string | null;
}

interface Contender {
  readonly label: string;
  readonly runs: readonly ThroughputRun[];
}

const aggregate = (runs: readonly ThroughputRun[]) => summarize(runs.map((r) => r.opsPerSec));
const perOp = (runs: readonly ThroughputRun[], op: 'gets' | 'sets') =>
  summarize(runs.map((r) => r.workers.reduce((s, w) => s + (w[op] * 1000) / w.windowMs, 0)));
const windowOps = (r: ThroughputRun) => r.workers.reduce((s, w) => s + w.gets + w.sets, 0);
/** CPU µs per op of the server side alone, or with the separate load processes added (`withClients`). */
const cpuPerOp = (runs: readonly ThroughputRun[], withClients: boolean): Summary | null =>
  summarizePresent(
    runs.map((r) =>
      cpuPerOpUs(r.serverCpuUs === null ? null : r.serverCpuUs + (withClients ? r.clientCpuUs : 0), windowOps(r)),
    ),
  );
const cpuCell = (s: Summary | null): string => (s === null ? 'n/a' : formatSummary('us', s));
const errors = (runs: readonly ThroughputRun[]) =>
  runs.reduce((s, r) => s + r.workers.reduce((t, w) => t + w.errors, 0), 0);

function throughputTable(present: readonly Contender[], anchor: Contender | null, concurrency: number): TableSpec {
  const anchorMedian = anchor === null ? null : aggregate(anchor.runs).median;
  return {
    title: `Cluster throughput through the embedded API: 3 load processes x ${concurrency} in flight, 90/10 get/set, 10k keys, 100-byte values (ops/s, median of runs with min-max; x = ratio to Redis)`,
    columns: [
      { header: 'contender' },
      right('get+set'),
      right('x'),
      right('get'),
      right('set'),
      right('server CPU/op'),
      right('all CPU/op'),
      right('errors'),
    ],
    rows: present.map((c) => [
      c.label,
      formatSummary('ops/s', aggregate(c.runs)),
      anchorMedian === null ? 'n/a' : formatRatio(aggregate(c.runs).median / anchorMedian),
      formatSummary('ops/s', perOp(c.runs, 'gets')),
      formatSummary('ops/s', perOp(c.runs, 'sets')),
      cpuCell(cpuPerOp(c.runs, false)),
      cpuCell(cpuPerOp(c.runs, true)),
      String(errors(c.runs)),
    ]),
  };
}

function throughputChart(present: readonly Contender[], concurrency: number): ChartFile[] {
  if (present.length === 0) return [];
  const title = `Cluster throughput, 3 x ${concurrency} in flight, 90/10 (median ops/s)`;
  return [
    {
      name: 'throughput',
      title,
      svg: barChart({
        title,
        yLabel: 'ops/s',
        categories: ['get+set', 'get', 'set'],
        series: present.map((c) => ({
          name: c.label,
          values: [aggregate(c.runs).median, perOp(c.runs, 'gets').median, perOp(c.runs, 'sets').median],
        })),
        formatY: formatSi,
      }),
    },
  ];
}

/** Table, chart and (when Redis ran) the comparison with it. */
export function throughputSection(data: ThroughputData, concurrency: number): Section {
  const shoal: Contender | null = data.shoal.length > 0 ? { label: 'shoal 3 nodes', runs: data.shoal } : null;
  const redisLabel = `redis-server${data.redisVersion === null ? '' : ` ${data.redisVersion}`}`;
  const redis: Contender | null =
    data.redis !== null && data.redis.length > 0 ? { label: redisLabel, runs: data.redis } : null;
  const present = [shoal, redis].filter((c): c is Contender => c !== null);
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  if (shoal !== null && redis !== null) {
    comparisons.push(
      compare({
        group: 'throughput',
        metric: `get+set 90/10, 3 x ${concurrency} in flight`,
        unit: 'ops/s',
        subject: 'shoal 3 nodes (2 copies, quorum writes)',
        anchor: `${redisLabel} (1 copy)`,
        subjectValue: aggregate(shoal.runs),
        anchorValue: aggregate(redis.runs),
      }),
    );
    const shoalCpu = cpuPerOp(shoal.runs, true);
    const redisCpu = cpuPerOp(redis.runs, true);
    if (shoalCpu !== null && redisCpu !== null) {
      comparisons.push(
        compare({
          group: 'throughput',
          metric: 'CPU per op, server and load processes together',
          unit: 'us',
          subject: 'shoal 3 nodes (load embedded)',
          anchor: `${redisLabel} + ioredis load processes`,
          subjectValue: shoalCpu,
          anchorValue: redisCpu,
        }),
      );
    }
    notes.push(
      'throughput CPU/op: CPU time in the timed window over the operations completed in it; server = redis-server alone (from /proc/<pid>/stat) or the Shoal node processes, which also run the embedded load loops; all = plus the separate ioredis load processes (process.cpuUsage), so "all" compares like with like',
    );
    notes.push(
      'throughput: Redis is one unreplicated server; Shoal keeps 2 copies (a set returns once the primary and its replica hold it) and a node serves a get locally only for keys it is primary of (about 1 in 3)',
    );
  }
  const firstError = data.shoal.flatMap((r) => r.workers).find((w) => w.firstError !== null)?.firstError;
  if (firstError !== undefined) notes.push(`throughput: shoal operations failed, first error: ${firstError}`);
  return {
    comparisons,
    tables: [throughputTable(present, redis, concurrency)],
    charts: throughputChart(present, concurrency),
    notes,
  };
}
