/**
 * What each part of the `cluster` scenario hands back (comparisons, tables,
 * charts, notes), and the small helpers the part reports share. Where no
 * library is a natural anchor (ring balance, data moved, gossip growth,
 * detection time, false suspicions), the anchor is the ideal or the target
 * itself, named as such ("ideal 1/N", "target 3 s").
 */
import type { Comparison } from '../../lib/compare.js';
import { type Summary, summarize } from '../../lib/stats.js';
import type { ChartFile } from '../../report/svg-chart.js';
import type { TableColumn, TableSpec } from '../../report/table.js';

/** One part's share of the scenario result. */
export interface Section {
  comparisons: Comparison[];
  tables: TableSpec[];
  charts: ChartFile[];
  notes: string[];
}

/** The subject of every comparison. */
export const SUBJECT = 'shoal';

/** A single figure as a summary (median = min = max). */
export const one = (value: number): Summary => summarize([value]);

/** A right-aligned (numeric) column. */
export const right = (header: string): TableColumn => ({ header, align: 'right' });

/** ln(N + 1) growth from the smallest size: the O(log N) allowance for a per-node cost. */
export function logBound(baseNodes: number, baseValue: number, nodes: number): number {
  return (baseValue * Math.log(nodes + 1)) / Math.log(baseNodes + 1);
}
