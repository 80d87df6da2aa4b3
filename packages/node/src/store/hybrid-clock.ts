/**
 * Hybrid logical clock for entry versions. A version is one float64:
 * (wall ms since VERSION_EPOCH_MS) * 4096 + logical counter, so versions
 * compare with `<`, fit a Float64Array slot, and stay below 2^53 until 2094.
 * Ties between nodes are broken by the writer's node id (see compareVersions),
 * which makes last-writer-wins deterministic on every replica.
 *
 *   | 41 bits wall ms since 2025-01-01 | 12 bits logical |
 */
import type { Clock } from './clock.js';

/** Start of version time (2025-01-01T00:00:00Z). */
export const VERSION_EPOCH_MS = Date.UTC(2025, 0, 1);
/** Versions per millisecond before the logical counter carries into the wall part. */
export const LOGICAL_PER_MS = 4096;

/** Issues versions that only grow, even when the wall clock steps back. */
export class HybridClock {
  private last = 0; // the largest version issued or observed

  constructor(private readonly clock: Clock) {}

  /** A version greater than every version this clock issued or observed. */
  next(): number {
    const physical = (Math.floor(this.clock.now()) - VERSION_EPOCH_MS) * LOGICAL_PER_MS;
    const version = physical > this.last ? physical : this.last + 1;
    this.last = version;
    return version;
  }

  /** Records a version seen from another node so later local versions order after it. */
  observe(version: number): void {
    if (version > this.last) this.last = version;
  }
}

/** Wall-clock milliseconds a version was issued at. */
export function versionTimeMs(version: number): number {
  return Math.floor(version / LOGICAL_PER_MS) + VERSION_EPOCH_MS;
}

/**
 * Orders two writes: negative when (a, aOrigin) is older. Equal versions from
 * different writers fall back to the writer id so every replica picks the same winner.
 */
export function compareVersions(a: number, aOrigin: string, b: number, bOrigin: string): number {
  if (a !== b) return a < b ? -1 : 1;
  if (aOrigin === bOrigin) return 0;
  return aOrigin < bOrigin ? -1 : 1;
}
