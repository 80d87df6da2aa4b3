/**
 * Report of the join cost: keys moved against the ideal 1/N share (target
 * <= 1.2x, as for the ring simulation), bytes on the wire against the store
 * bytes that moved, time to settle quiet and under load, and the throughput
 * of the original nodes around the join; the timeline of one loaded join as a
 * chart. The anchor column holds the ideal or the pre-join figure.
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { type Summary, summarize } from '../../lib/stats.js';
import { formatSi, formatSummary, formatValue } from '../../report/format.js';
import { type ChartFile, lineChart } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import { right, type Section, SUBJECT } from '../cluster/section.js';
import type { JoinRun } from './rebalance.js';

const of = (runs: readonly JoinRun[], pick: (r: JoinRun) => number): Summary => summarize(runs.map(pick));
const dipMin = (r: JoinRun): number => r.loaded.dip.minOpsPerSec ?? 0;

/** The run whose loaded settle time is the median one (its timeline is charted). */
function medianRun(runs: readonly JoinRun[]): JoinRun | undefined {
  const sorted = [...runs].sort((a, b) => a.loaded.settleMs - b.loaded.settleMs);
  return sorted[(sorted.length - 1) >> 1];
}

function table(runs: readonly JoinRun[]): TableSpec {
  const row = (label: string, unit: 'count' | 'bytes' | 'ms' | 'ops/s' | 'factor', pick: (r: JoinRun) => number) => [
    label,
    formatSummary(unit, of(runs, pick)),
  ];
  const after = runs.filter((r) => r.loaded.dip.afterOpsPerSec !== null);
  const dipped = runs.filter((r) => r.loaded.dip.minOpsPerSec !== null);
  return {
    title: `A 4th node joins a 3-node cluster (2 copies, ${formatSi(runs[0]?.quiet.copiesBefore ?? 0)} copies held): median of ${runs.length} joins with min-max`,
    columns: [{ header: 'figure' }, right('value')],
    rows: [
      row('keys moved (quiet join)', 'count', (r) => r.quiet.keysMoved),
      row('ideal: copies / 4', 'count', (r) => r.quiet.idealKeys),
      row('moved / ideal', 'factor', (r) => r.quiet.keysMoved / r.quiet.idealKeys),
      row('keys dropped by the old owners', 'count', (r) => r.quiet.keysDropped),
      row('store bytes moved', 'bytes', (r) => r.quiet.storeBytesMoved),
      row('bytes on the wire, all nodes', 'bytes', (r) => r.quiet.wireBytes),
      row('wire / store bytes', 'factor', (r) => r.quiet.wireBytes / Math.max(1, r.quiet.storeBytesMoved)),
      row('settle time, quiet', 'ms', (r) => r.quiet.settleMs),
      row('settle time, under load', 'ms', (r) => r.loaded.settleMs),
      row('new process start, under load', 'ms', (r) => r.loaded.startMs),
      row('ops/s before the join', 'ops/s', (r) => r.loaded.dip.beforeOpsPerSec),
      ...(dipped.length === 0
        ? []
        : [
            ['lowest 100 ms while rebalancing, ops/s', formatSummary('ops/s', of(dipped, dipMin))],
            [
              'mean while rebalancing, ops/s',
              formatSummary(
                'ops/s',
                of(dipped, (r) => r.loaded.dip.duringOpsPerSec ?? 0),
              ),
            ],
          ]),
      ...(after.length === 0
        ? []
        : [
            [
              'ops/s after settling',
              formatSummary(
                'ops/s',
                of(after, (r) => r.loaded.dip.afterOpsPerSec as number),
              ),
            ],
          ]),
      row('errors under load', 'count', (r) => r.loaded.dip.errors),
    ],
  };
}

function chart(runs: readonly JoinRun[], bucketMs: number): ChartFile[] {
  const run = medianRun(runs);
  if (run === undefined || run.loaded.timeline.length === 0) return [];
  const title = 'Throughput of the 3 original nodes while a 4th joins (one run, ops/s per 100 ms)';
  return [
    {
      name: 'join-timeline',
      title,
      svg: lineChart({
        title,
        xLabel: 'seconds since the load started',
        yLabel: 'ops/s',
        series: [
          {
            name: 'ops/s',
            points: run.loaded.timeline.map((c, i) => [((i + 1) * bucketMs) / 1000, (c * 1000) / bucketMs] as const),
          },
          {
            name: 'before the join (median)',
            style: 'dashed',
            points: [
              [bucketMs / 1000, run.loaded.dip.beforeOpsPerSec],
              [(run.loaded.timeline.length * bucketMs) / 1000, run.loaded.dip.beforeOpsPerSec],
            ],
          },
        ],
        xTicks: Array.from({ length: Math.floor((run.loaded.timeline.length * bucketMs) / 1000) + 1 }, (_, s) => s),
        formatX: (x) => x.toFixed(0),
        formatY: formatSi,
      }),
    },
  ];
}

/** Comparisons against the ideal share and the pre-join throughput, one table, one timeline chart. */
export function rebalanceSection(runs: readonly JoinRun[], bucketMs: number): Section {
  if (runs.length === 0) return { comparisons: [], tables: [], charts: [], notes: [] };
  const dipped = runs.filter((r) => r.loaded.dip.minOpsPerSec !== null);
  const comparisons: Comparison[] = [
    compare({
      group: 'rebalancing',
      metric: 'keys moved when a 4th node joins',
      unit: 'count',
      subject: SUBJECT,
      anchor: 'ideal 1/4 of the copies',
      subjectValue: of(runs, (r) => r.quiet.keysMoved),
      anchorValue: of(runs, (r) => r.quiet.idealKeys),
      target: { on: 'ratio', op: '<=', value: 1.2 },
    }),
    compare({
      group: 'rebalancing',
      metric: 'bytes on the wire for the join',
      unit: 'bytes',
      subject: SUBJECT,
      anchor: 'store bytes moved',
      subjectValue: of(runs, (r) => r.quiet.wireBytes),
      anchorValue: of(runs, (r) => r.quiet.storeBytesMoved),
    }),
    compare({
      group: 'rebalancing',
      metric: 'settle time under load',
      unit: 'ms',
      subject: SUBJECT,
      anchor: 'settle time quiet',
      subjectValue: of(runs, (r) => r.loaded.settleMs),
      anchorValue: of(runs, (r) => r.quiet.settleMs),
    }),
  ];
  if (dipped.length > 0) {
    comparisons.push(
      compare({
        group: 'rebalancing',
        metric: 'lowest 100 ms of throughput while rebalancing',
        unit: 'ops/s',
        subject: SUBJECT,
        anchor: 'before the join',
        subjectValue: of(dipped, dipMin),
        anchorValue: of(dipped, (r) => r.loaded.dip.beforeOpsPerSec),
      }),
    );
  }
  const unit = (v: number) => formatValue('bytes', v);
  return {
    comparisons,
    tables: [table(runs)],
    charts: chart(runs, bucketMs),
    notes: [
      ...(dipped.length === runs.length
        ? []
        : [
            `rebalancing: in ${runs.length - dipped.length} of ${runs.length} loaded joins the new node joined after the load had ended (a slow process start): no dip figure from those`,
          ]),
      `rebalancing: keys moved = entries that appeared on a node (sum of positive entry-count changes), the ideal is a quarter of the ${formatSi(runs[0]?.quiet.copiesBefore ?? 0)} copies; settled = every node sees 4 alive, routes with the same table, and nothing is syncing or handing off; settle times run from the new node having joined`,
      `rebalancing: wire bytes are every node's transport frame bytes sent from just before the join until settled (membership and the pull protocol included, e.g. ${unit(runs[0]?.quiet.wireBytes ?? 0)} in run 1); the loaded join runs the embedded 90/10 load on the 3 original nodes, counted per 100 ms`,
    ],
  };
}
