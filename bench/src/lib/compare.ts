/**
 * A measured figure next to its anchor (the library users would otherwise
 * pick) from the same run, with the ratio and, when the product set one, the
 * target and whether it was met. Targets are reported, never asserted: the
 * harness exits 0 on a miss, since CI machines are too noisy to gate on.
 */
import type { Summary } from './stats.js';

/**
 * How a figure is measured; decides formatting and what "points" mean.
 * 'factor' is a dimensionless ratio such as max/mean (1.042); 'count' an
 * integer tally; 'msg/s' and 'B/s' rates of messages and bytes; 'us' microseconds
 * (CPU time per operation).
 */
export type Unit = 'ops/s' | 'fraction' | 'bytes' | 'ms' | 'count' | 'factor' | 'msg/s' | 'B/s' | 'us';

/** A product target on the comparison: on the ratio (subject / anchor) or on the difference (subject - anchor). */
export interface Target {
  readonly on: 'ratio' | 'difference';
  readonly op: '>=' | '<=';
  /** A ratio (1.1), or a difference in the figure's unit (0.05 = 5 points for a fraction). */
  readonly value: number;
}

export interface Comparison {
  /** Section: 'throughput', 'hit ratio', 'memory'. */
  readonly group: string;
  /** What was measured, e.g. 'get' or 'zipf-0.99 @ 1%'. */
  readonly metric: string;
  readonly unit: Unit;
  readonly subject: string;
  readonly anchor: string;
  readonly subjectValue: Summary;
  readonly anchorValue: Summary;
  /** subject median / anchor median. */
  readonly ratio: number;
  /** subject median - anchor median. */
  readonly difference: number;
  readonly target: Target | null;
  /** null without a target. */
  readonly pass: boolean | null;
}

export interface CompareInput {
  readonly group: string;
  readonly metric: string;
  readonly unit: Unit;
  readonly subject: string;
  readonly anchor: string;
  readonly subjectValue: Summary;
  readonly anchorValue: Summary;
  readonly target?: Target;
}

// Absorbs float noise so that a ratio printed as 1.00x never reads as a miss of a ">= 1.0x" target.
const EPSILON = 1e-9;

/** Builds a comparison and evaluates its target. */
export function compare(input: CompareInput): Comparison {
  const ratio = input.subjectValue.median / input.anchorValue.median;
  const difference = input.subjectValue.median - input.anchorValue.median;
  const target = input.target ?? null;
  let pass: boolean | null = null;
  if (target !== null) {
    const measured = target.on === 'ratio' ? ratio : difference;
    pass = target.op === '>=' ? measured >= target.value - EPSILON : measured <= target.value + EPSILON;
  }
  return { ...input, ratio, difference, target, pass };
}
