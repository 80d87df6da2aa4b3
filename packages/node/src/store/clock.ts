/**
 * The time source every time-dependent part of a node reads. Injected so tests
 * can move time by hand instead of sleeping.
 */

/** Wall-clock milliseconds (like Date.now()). */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: Date.now };

/** A clock tests advance by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  /** Moves time forward by `ms` (never backward). */
  advance(ms: number): void {
    this.current += ms;
  }
  /** Sets the time (tests of clock skew may move it backward). */
  set(ms: number): void {
    this.current = ms;
  }
}
