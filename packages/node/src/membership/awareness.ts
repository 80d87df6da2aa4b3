/**
 * Lifeguard's local health awareness: a small score of how much this node
 * itself is to blame for missed acks (slow event loop, overloaded host). While
 * the score is up, this node probes less often and waits longer, so its own
 * trouble does not turn healthy peers into suspects.
 */

/** Health score in [0, maxMultiplier − 1]; 0 is healthy. */
export class Awareness {
  private current = 0;

  /** @param maxMultiplier the largest factor timeouts are scaled by (score + 1 ≤ maxMultiplier). */
  constructor(private readonly maxMultiplier: number) {}

  /** The current score. */
  get score(): number {
    return this.current;
  }

  /** Adds `delta` (may be negative), clamped to the range. Returns the new score. */
  applyDelta(delta: number): number {
    this.current = Math.min(this.maxMultiplier - 1, Math.max(0, this.current + delta));
    return this.current;
  }

  /**
   * Folds in a measured event-loop lag: from `thresholdMs` on, the score is
   * raised to at least ceil(lagMs / unitMs), so timeouts grow past the stall.
   */
  noteLag(lagMs: number, thresholdMs: number, unitMs: number): number {
    if (lagMs >= thresholdMs) this.applyDelta(Math.max(0, Math.ceil(lagMs / unitMs) - this.current));
    return this.current;
  }

  /** `ms` × (score + 1). */
  scale(ms: number): number {
    return ms * (this.current + 1);
  }
}
