/**
 * Report of throughput vs cluster size: Shoal at each size against the Redis
 * line (one server, as many load processes), ops/s and CPU per op, a
 * comparison per size and the "throughput vs nodes" chart.
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { cpuPerOpUs, summarizePresent } from '../../lib/cpu-cost.js';
import { type Summary, summarize } from '../../lib/stats.js';
import { formatRatio, formatSi, formatSummary } from '../../report/format.js';
import { type ChartFile, lineChart } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import { right, type Section } from '../cluster/section.js';
import type { SizeRun } from './nodes-throughput.js';

/** Every run at one size, of both contenders (`redis` null when the anchor did not run). */
export interface SizeResult {
  readonly nodes: number;
  readonly shoal: readonly SizeRun[];
  readonly redis: readonly SizeRun[] | null;
}

const ops = (runs: readonly SizeRun[]): Summary => summarize(runs.map((r) => r.opsPerSec));
const windowOps = (r: SizeRun) => r.workers.reduce((s, w) => s + w.gets + w.sets, 0);
const cpu = (runs: readonly SizeRun[], withClients: boolean): Summary | null =>
  summarizePresent(
    runs.map((r) =>
      cpuPerOpUs(r.serverCpuUs === null ? null : r.serverCpuUs + (withClients ? r.clientCpuUs : 0), windowOps(r)),
    ),
  );
const cell = (s: Summary | null) => (s === null ? 'n/a' : formatSummary('us', s));
const errors = (runs: readonly SizeRun[]) => runs.reduce((s, r) => s + r.workers.reduce((t, w) => t + w.errors, 0), 0);
const hasRuns = (runs: readonly SizeRun[] | null): runs is readonly SizeRun[] => runs !== null && runs.length > 0;

function table(sizes: readonly SizeResult[], redisLabel: string, concurrency: number): TableSpec {
  const base = sizes.find((s) => s.nodes === 1 && s.shoal.length > 0);
  const baseOps = base === undefined ? null : ops(base.shoal).median;
  return {
    title: `Throughput vs nodes: N node processes, N load processes (${concurrency} requests in flight each), 90/10 get/set; Shoal through @shoal/client, Redis (one server) through ioredis; ops/s median of runs with min-max; x = Shoal / Redis at the same N; scaling = ops/s / (N x ops/s at 1 node)`,
    columns: [
      right('nodes'),
      right('shoal ops/s'),
      right(redisLabel),
      right('x'),
      right('scaling'),
      right('shoal CPU/op'),
      right('redis CPU/op'),
      right('shoal all CPU/op'),
      right('redis all CPU/op'),
      right('errors'),
    ],
    rows: sizes.map((s) => {
      const shoal = s.shoal.length > 0 ? ops(s.shoal) : null;
      const redis = hasRuns(s.redis) ? ops(s.redis) : null;
      return [
        String(s.nodes),
        shoal === null ? 'n/a' : formatSummary('ops/s', shoal),
        redis === null ? 'n/a' : formatSummary('ops/s', redis),
        shoal === null || redis === null ? 'n/a' : formatRatio(shoal.median / redis.median),
        shoal === null || baseOps === null ? 'n/a' : formatRatio(shoal.median / (s.nodes * baseOps)),
        cell(s.shoal.length > 0 ? cpu(s.shoal, false) : null),
        cell(hasRuns(s.redis) ? cpu(s.redis, false) : null),
        cell(s.shoal.length > 0 ? cpu(s.shoal, true) : null),
        cell(hasRuns(s.redis) ? cpu(s.redis, true) : null),
        String(errors(s.shoal)),
      ];
    }),
  };
}

function chart(sizes: readonly SizeResult[], redisLabel: string): ChartFile[] {
  const title = 'Throughput vs nodes (median ops/s; N load processes)';
  const shoal = sizes.filter((s) => s.shoal.length > 0);
  const redis = sizes.filter((s) => hasRuns(s.redis));
  if (shoal.length === 0) return [];
  return [
    {
      name: 'throughput-vs-nodes',
      title,
      svg: lineChart({
        title,
        xLabel: 'nodes (Shoal) / load processes (Redis)',
        yLabel: 'ops/s',
        series: [
          ...(redis.length === 0
            ? []
            : [
                {
                  name: `${redisLabel} (1 server)`,
                  style: 'wide' as const,
                  points: redis.map((s) => [s.nodes, ops(s.redis as SizeRun[]).median] as const),
                },
              ]),
          { name: 'shoal (@shoal/client)', points: shoal.map((s) => [s.nodes, ops(s.shoal).median] as const) },
        ],
        formatY: formatSi,
      }),
    },
  ];
}

/** Comparisons per size (no target: Redis is one unreplicated server), table and chart. */
export function nodesSection(sizes: readonly SizeResult[], redisVersion: string | null, concurrency: number): Section {
  const redisLabel = `redis-server${redisVersion === null ? '' : ` ${redisVersion}`}`;
  const comparisons: Comparison[] = [];
  for (const s of sizes) {
    if (s.shoal.length === 0 || !hasRuns(s.redis)) continue;
    comparisons.push(
      compare({
        group: 'throughput vs nodes',
        metric: `get+set 90/10 @ ${s.nodes} node${s.nodes === 1 ? '' : 's'}`,
        unit: 'ops/s',
        subject: `shoal ${s.nodes} node${s.nodes === 1 ? '' : 's'}`,
        anchor: `${redisLabel}, ${s.nodes} load process${s.nodes === 1 ? '' : 'es'}`,
        subjectValue: ops(s.shoal),
        anchorValue: ops(s.redis),
      }),
    );
    const shoalCpu = cpu(s.shoal, true);
    const redisCpu = cpu(s.redis, true);
    if (shoalCpu !== null && redisCpu !== null) {
      comparisons.push(
        compare({
          group: 'throughput vs nodes',
          metric: `CPU per op (servers + load processes) @ ${s.nodes} node${s.nodes === 1 ? '' : 's'}`,
          unit: 'us',
          subject: `shoal ${s.nodes} node${s.nodes === 1 ? '' : 's'}`,
          anchor: redisLabel,
          subjectValue: shoalCpu,
          anchorValue: redisCpu,
        }),
      );
    }
  }
  const notes = [
    'throughput vs nodes: every node and every load process is its own process on this machine, so past its core count more nodes share the same cores: the curve shows the cost of coordination, not the capacity of N machines',
    'throughput vs nodes: Shoal is driven through @shoal/client (one WebSocket per node it talks to, keys routed to their primary), each load process first connected to a different node; Redis through RESP with ioredis (no auto-pipelining); Shoal keeps 2 copies from 2 nodes on, Redis 1',
    'throughput vs nodes: CPU/op = CPU in the timed window over operations completed in it; server = node processes or redis-server (from /proc/<pid>/stat), all = plus the load processes',
  ];
  const firstError = sizes.flatMap((s) => s.shoal.flatMap((r) => r.workers)).find((w) => w.firstError !== null);
  if (firstError?.firstError)
    notes.push(`throughput vs nodes: shoal requests failed, first error: ${firstError.firstError}`);
  return { comparisons, tables: [table(sizes, redisLabel, concurrency)], charts: chart(sizes, redisLabel), notes };
}
