/**
 * Report of the ring-quality simulation: every candidate in one table, the
 * targets checked on Shoal's rows (balance at 100 nodes with 4096 partitions,
 * data moved at every size), and balance and data moved charted against N.
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { formatRatio, formatValue } from '../../report/format.js';
import { type ChartFile, type LineSeries, lineChart } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import type { RingQualityRow } from './ring-quality.js';
import { one, right, type Section, SUBJECT } from './section.js';

/** The ring layout the targets speak of. */
const TARGET_PARTITIONS = 4096;
const TARGET_REPLICAS = 2;
const BALANCE_TARGET = 1.1;
const MOVED_TARGET = 1.2;

function ringComparisons(rows: readonly RingQualityRow[]): Comparison[] {
  const comparisons: Comparison[] = [];
  const shoal = rows.filter((r) => r.algorithm === SUBJECT && r.replicas === TARGET_REPLICAS);
  // balance at 100 nodes: the target with 4096 partitions, the default 271 for information
  for (const r of shoal.filter((x) => x.nodes === 100)) {
    comparisons.push(
      compare({
        group: 'ring',
        metric: `max/mean copies @ 100 nodes, ${r.partitions} partitions`,
        unit: 'factor',
        subject: SUBJECT,
        anchor: 'ideal (1.000)',
        subjectValue: one(r.maxOverMean),
        anchorValue: one(1),
        ...(r.partitions === TARGET_PARTITIONS ? { target: { on: 'ratio', op: '<=', value: BALANCE_TARGET } } : {}),
      }),
    );
  }
  for (const r of shoal.filter((x) => x.partitions === TARGET_PARTITIONS)) {
    for (const [what, moved] of [
      ['join', r.movedJoin],
      ['leave', r.movedLeave],
    ] as const) {
      comparisons.push(
        compare({
          group: 'ring',
          metric: `moved on ${what} @ ${r.nodes} nodes`,
          unit: 'fraction',
          subject: SUBJECT,
          anchor: 'ideal 1/N',
          subjectValue: one(moved),
          anchorValue: one(r.idealMove),
          target: { on: 'ratio', op: '<=', value: MOVED_TARGET },
        }),
      );
    }
  }
  return comparisons;
}

function ringTable(rows: readonly RingQualityRow[]): TableSpec {
  return {
    title:
      'Ring quality, simulated (max/mean = most copies on one node over the mean, worst of trials; primaries = the same for primary copies, the write coordinators; moved = fraction of copies that change node when the N-th node joins or one leaves, x = over the ideal 1/N)',
    columns: [
      { header: 'algorithm' },
      right('nodes'),
      right('partitions'),
      right('replicas'),
      right('max/mean'),
      right('primaries max/mean'),
      right('moved join'),
      right('x ideal'),
      right('moved leave'),
      right('x ideal'),
      right('compute ms'),
    ],
    rows: rows.map((r) => [
      r.algorithm,
      String(r.nodes),
      String(r.partitions),
      String(r.replicas),
      formatValue('factor', r.maxOverMean),
      formatValue('factor', r.primaryMaxOverMean),
      formatValue('fraction', r.movedJoin),
      formatRatio(r.movedRatioJoin),
      formatValue('fraction', r.movedLeave),
      formatRatio(r.movedRatioLeave),
      r.computeMs.toFixed(1),
    ]),
  };
}

function ringCharts(rows: readonly RingQualityRow[]): ChartFile[] {
  const main = rows.filter((r) => r.partitions === TARGET_PARTITIONS && r.replicas === TARGET_REPLICAS);
  if (main.length === 0) return [];
  const algorithms = [...new Set(main.map((r) => r.algorithm))];
  const nodes = [...new Set(main.map((r) => r.nodes))].sort((a, b) => a - b);
  const series = (value: (r: RingQualityRow) => number, boundName: string, bound: number): LineSeries[] => [
    ...algorithms.map(
      (a): LineSeries => ({
        name: a,
        style: a === SUBJECT ? 'wide' : 'solid',
        points: main.filter((r) => r.algorithm === a).map((r) => [r.nodes, value(r)] as const),
      }),
    ),
    { name: boundName, style: 'dashed', points: nodes.map((n) => [n, bound] as const) },
  ];
  const balanceTitle = `Ring balance, ${TARGET_PARTITIONS} partitions, ${TARGET_REPLICAS} replicas (max/mean copies per node)`;
  const movedTitle = `Data moved on one join, ${TARGET_PARTITIONS} partitions (x the ideal 1/N)`;
  return [
    {
      name: 'ring-balance',
      title: balanceTitle,
      svg: lineChart({
        title: balanceTitle,
        xLabel: 'nodes (log scale)',
        yLabel: 'max / mean',
        xScale: 'log',
        yMin: 1,
        series: series((r) => r.maxOverMean, 'target 1.10', BALANCE_TARGET),
        formatY: (y) => y.toFixed(2),
      }),
    },
    {
      name: 'ring-moved',
      title: movedTitle,
      svg: lineChart({
        title: movedTitle,
        xLabel: 'nodes (log scale)',
        yLabel: 'moved / ideal',
        xScale: 'log',
        yMin: 0,
        series: series((r) => r.movedRatioJoin, 'target 1.2x', MOVED_TARGET),
        formatY: (y) => `${y.toFixed(1)}x`,
      }),
    },
  ];
}

/** Comparisons, the full table and two charts from the simulation's rows. */
export function ringSection(rows: readonly RingQualityRow[]): Section {
  return { comparisons: ringComparisons(rows), tables: [ringTable(rows)], charts: ringCharts(rows), notes: [] };
}
