/**
 * Number formatting shared by tables, the summary and charts, so a figure
 * reads the same everywhere: ops/s with SI suffixes, fractions as percent,
 * differences of fractions as percentage points.
 */
import type { Target, Unit } from '../lib/compare.js';
import type { Summary } from '../lib/stats.js';

/** 12345678 -> '12.3M'. */
export function formatSi(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(abs >= 100 ? 0 : 1);
}

/** A value in its unit: '12.30M', '45.21%', '197 B', '2013 ms', '1.042', '2.07 msg/s', '64.0 B/s'. */
export function formatValue(unit: Unit, value: number): string {
  switch (unit) {
    case 'ops/s':
      return formatSi(value);
    case 'fraction':
      return `${(value * 100).toFixed(2)}%`;
    case 'bytes':
      return `${value.toFixed(value >= 100 ? 0 : 1)} B`;
    case 'ms':
      return `${value.toFixed(Math.abs(value) >= 100 ? 0 : 1)} ms`;
    case 'count':
      return String(Math.round(value));
    case 'factor':
      return value.toFixed(3);
    case 'msg/s':
      return `${value.toFixed(2)} msg/s`;
    case 'B/s':
      return `${value.toFixed(value >= 100 ? 0 : 1)} B/s`;
    case 'us':
      return `${value.toFixed(Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)} µs`;
  }
}

/** Median with the range when there is more than one sample: '12.30M (11.90M-12.80M)'. */
export function formatSummary(unit: Unit, summary: Summary): string {
  const median = formatValue(unit, summary.median);
  if (summary.n < 2) return median;
  return `${median} (${formatValue(unit, summary.min)}-${formatValue(unit, summary.max)})`;
}

/** 1.0432 -> '1.04x'. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
}

/** A difference in the unit: '+5.3 pts' for fractions. */
export function formatDifference(unit: Unit, difference: number): string {
  const sign = difference >= 0 ? '+' : '-';
  if (unit === 'fraction') return `${sign}${Math.abs(difference * 100).toFixed(1)} pts`;
  return `${sign}${formatValue(unit, Math.abs(difference))}`;
}

/** '>= 1.00x', '>= +5.0 pts', '<= 1.10x'. */
export function formatTarget(unit: Unit, target: Target | null): string {
  if (target === null) return '';
  const value = target.on === 'ratio' ? formatRatio(target.value) : formatDifference(unit, target.value);
  return `${target.op} ${value}`;
}

/** Pass/miss mark; empty without a target. */
export function formatMark(pass: boolean | null): string {
  if (pass === null) return '';
  return pass ? '✓ pass' : '✗ MISS';
}
