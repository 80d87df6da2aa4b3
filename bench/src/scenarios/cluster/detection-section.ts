/**
 * Report of failure detection on the real cluster: time from SIGKILL to
 * suspect and to dead at each survivor (median and p99 against the 3 s
 * target), per-kill detail, and the stall run's count of false suspicions
 * (target 0).
 */
import { type Comparison, compare } from '../../lib/compare.js';
import { percentile, summarize } from '../../lib/stats.js';
import { formatValue } from '../../report/format.js';
import { type ChartFile, type LineSeries, lineChart } from '../../report/svg-chart.js';
import type { TableSpec } from '../../report/table.js';
import type { DetectionRun, FalseSuspicionResult } from './failure-detection.js';
import { one, right, type Section, SUBJECT } from './section.js';

const DETECTION_TARGET_MS = 3000;
const SUBJECT_LABEL = `${SUBJECT} (LAN defaults)`;

export interface DetectionFigures {
  /** ms from the kill to dead, one per survivor per kill. */
  readonly dead: number[];
  /** ms from the kill to suspect, for survivors that suspected before burying. */
  readonly suspect: number[];
  /** Survivors that had not buried the victim by the deadline (counted as the deadline in `dead`). */
  readonly undetected: number;
}

/** Samples of every survivor of every run; an undecided survivor counts as the deadline. */
export function detectionFigures(runs: readonly DetectionRun[], deadlineMs: number): DetectionFigures {
  const samples = runs.flatMap((r) => r.samples);
  return {
    dead: samples.map((s) => s.deadMs ?? deadlineMs),
    suspect: samples.flatMap((s) => (s.suspectMs === null ? [] : [s.suspectMs])),
    undetected: samples.filter((s) => s.deadMs === null).length,
  };
}

function detectionComparisons(f: DetectionFigures, stalls: FalseSuspicionResult): Comparison[] {
  const comparisons: Comparison[] = [];
  const base = { group: 'failure detection', unit: 'ms', subject: SUBJECT_LABEL, anchor: 'target 3 s' } as const;
  if (f.dead.length > 0) {
    comparisons.push(
      compare({
        ...base,
        metric: 'SIGKILL to dead, median (min-max)',
        subjectValue: summarize(f.dead),
        anchorValue: one(DETECTION_TARGET_MS),
        target: { on: 'ratio', op: '<=', value: 1 },
      }),
      compare({
        ...base,
        metric: `SIGKILL to dead, p99 of ${f.dead.length}`,
        subjectValue: one(percentile(f.dead, 99)),
        anchorValue: one(DETECTION_TARGET_MS),
      }),
    );
  }
  const stallCount = stalls.stalls.reduce((s, r) => s + r.stalls, 0);
  comparisons.push(
    compare({
      group: 'failure detection',
      metric: `false suspicions, ${(stalls.durationMs / 1000).toFixed(0)} s of ${stallCount} stalls`,
      unit: 'count',
      subject: SUBJECT_LABEL,
      anchor: 'target 0',
      subjectValue: one(stalls.falseSuspicions.length),
      anchorValue: one(0),
      target: { on: 'difference', op: '<=', value: 0 },
    }),
  );
  return comparisons;
}

function detectionTables(
  runs: readonly DetectionRun[],
  f: DetectionFigures,
  stalls: FalseSuspicionResult,
  deadlineMs: number,
): TableSpec[] {
  const summaryRow = (label: string, xs: readonly number[]): string[] =>
    xs.length === 0
      ? [label, '0', 'n/a', 'n/a', 'n/a', 'n/a']
      : [label, String(xs.length), ...[50, 99, 0, 100].map((p) => formatValue('ms', percentile(xs, p)))];
  const ms = (v: number | null): string => (v === null ? '-' : formatValue('ms', v));
  return [
    {
      title: `Failure detection, 3 nodes, LAN defaults: time from SIGKILL as each survivor saw it (${runs.length} kills; with so few samples p99 is about the max)`,
      columns: [{ header: 'event' }, right('samples'), right('median'), right('p99'), right('min'), right('max')],
      rows: [summaryRow('suspect', f.suspect), summaryRow('dead', f.dead)],
    },
    {
      title: 'Failure detection per kill (kill delay = time between convergence and the SIGKILL)',
      columns: [
        right('run'),
        { header: 'victim' },
        { header: 'survivor' },
        right('kill delay'),
        right('suspect'),
        right('dead'),
      ],
      rows: runs.flatMap((r) =>
        r.samples.map((s) => [
          String(r.run + 1),
          r.victim,
          s.observer,
          formatValue('ms', r.killDelayMs),
          ms(s.suspectMs),
          s.deadMs === null ? `> ${deadlineMs} ms` : ms(s.deadMs),
        ]),
      ),
    },
    {
      title: `Event-loop stalls injected in every node for ${(stalls.durationMs / 1000).toFixed(0)} s (busy-waits about once a second), and suspect/dead reports about it`,
      columns: [{ header: 'node' }, right('stalls'), right('stalled'), right('longest'), right('suspected by others')],
      rows: stalls.stalls.map((s) => [
        s.node,
        String(s.stalls),
        formatValue('ms', s.stalledMs),
        formatValue('ms', s.longestMs),
        String(stalls.falseSuspicions.filter((o) => o.member === s.node).length),
      ]),
    },
  ];
}

function detectionChart(runs: readonly DetectionRun[]): ChartFile[] {
  if (runs.length === 0) return [];
  const survivor = (index: number, key: 'deadMs' | 'suspectMs', name: string): LineSeries => ({
    name,
    points: runs.flatMap((r) => {
      const v = r.samples[index]?.[key];
      return v === undefined || v === null ? [] : [[r.run + 1, v] as const];
    }),
  });
  const title = 'Failure detection per kill: ms from SIGKILL (3 nodes, LAN defaults)';
  return [
    {
      name: 'detection',
      title,
      svg: lineChart({
        title,
        xLabel: 'kill (run)',
        yLabel: 'ms after SIGKILL',
        yMin: 0,
        series: [
          survivor(0, 'deadMs', 'dead, survivor 1'),
          survivor(1, 'deadMs', 'dead, survivor 2'),
          survivor(0, 'suspectMs', 'suspect, survivor 1'),
          survivor(1, 'suspectMs', 'suspect, survivor 2'),
          { name: 'target 3 s', style: 'dashed', points: runs.map((r) => [r.run + 1, DETECTION_TARGET_MS] as const) },
        ],
        formatX: (x) => String(x),
        formatY: (y) => `${Math.round(y)}`,
      }),
    },
  ];
}

/** Comparisons against the targets, three tables, the per-kill chart, and caveats. */
export function detectionSection(
  runs: readonly DetectionRun[],
  stalls: FalseSuspicionResult,
  deadlineMs: number,
): Section {
  const f = detectionFigures(runs, deadlineMs);
  const notes: string[] = [];
  if (f.undetected > 0)
    notes.push(
      `failure detection: ${f.undetected} survivor(s) had not declared the victim dead within ${deadlineMs} ms; counted as ${deadlineMs} ms`,
    );
  for (const o of stalls.falseSuspicions.slice(0, 5))
    notes.push(`false suspicion: ${o.observer} saw ${o.member} ${o.from ?? 'unknown'} -> ${o.to} (${o.source})`);
  if (!runs.every((r) => r.suspectEvents) || !stalls.suspectEvents)
    notes.push(
      'suspicions were seen by polling members() every 10 ms (no suspect event reachable): a suspicion refuted within one poll may be missed',
    );
  return {
    comparisons: detectionComparisons(f, stalls),
    tables: detectionTables(runs, f, stalls, deadlineMs),
    charts: detectionChart(runs),
    notes,
  };
}
