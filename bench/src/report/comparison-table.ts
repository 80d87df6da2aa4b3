/**
 * The headline table of a scenario: each figure beside its anchor, the ratio,
 * the target and a pass/miss mark.
 */
import type { Comparison } from '../lib/compare.js';
import { formatDifference, formatMark, formatRatio, formatSummary, formatTarget } from './format.js';
import type { TableSpec } from './table.js';

/** One row per comparison; hit-ratio rows also show the difference in points. */
export function comparisonTable(title: string, comparisons: readonly Comparison[]): TableSpec {
  return {
    title,
    columns: [
      { header: 'group' },
      { header: 'metric' },
      { header: 'subject' },
      { header: 'median (min-max)', align: 'right' },
      { header: 'anchor' },
      { header: 'anchor median (min-max)', align: 'right' },
      { header: 'ratio', align: 'right' },
      { header: 'target', align: 'right' },
      { header: 'mark' },
    ],
    rows: comparisons.map((c) => [
      c.group,
      c.metric,
      c.subject,
      formatSummary(c.unit, c.subjectValue),
      c.anchor,
      formatSummary(c.unit, c.anchorValue),
      c.unit === 'fraction'
        ? `${formatRatio(c.ratio)} ${formatDifference(c.unit, c.difference)}`
        : formatRatio(c.ratio),
      formatTarget(c.unit, c.target),
      formatMark(c.pass),
    ]),
  };
}
