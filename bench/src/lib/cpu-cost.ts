/**
 * CPU cost per operation, from CPU time measured over a window and the
 * operations completed in it: the figure that stays meaningful when contenders
 * use different numbers of processes or cores, where ops/s alone misleads.
 */
import { type Summary, summarize } from './stats.js';

/** µs of CPU per operation; null when the CPU could not be read or nothing completed. */
export function cpuPerOpUs(cpuUs: number | null, ops: number): number | null {
  if (cpuUs === null || !(ops > 0)) return null;
  return cpuUs / ops;
}

/** Summary of per-run figures, or null when any run lacks one (CPU unreadable on this platform). */
export function summarizePresent(values: readonly (number | null)[]): Summary | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return summarize(values as number[]);
}
