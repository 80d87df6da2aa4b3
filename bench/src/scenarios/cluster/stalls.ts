/**
 * Event-loop stalls injected into a node process, as GC pauses or CPU-bound
 * work would cause them: a synchronous busy-wait of `stallMs` at intervals
 * drawn uniformly from [everyMs - jitterMs, everyMs + jitterMs], for
 * `durationMs`. Used to check that membership does not suspect a live but
 * momentarily frozen member.
 */
import { Prng } from '../../lib/prng.js';

export interface StallSpec {
  readonly durationMs: number;
  /** Length of one busy-wait, ms. */
  readonly stallMs: number;
  /** Mean interval between stall starts, ms. */
  readonly everyMs: number;
  /** Half-width of the uniform jitter on the interval, ms (desynchronises the nodes). */
  readonly jitterMs: number;
  readonly seed: number;
}

export interface StallReport {
  readonly stalls: number;
  /** Sum of the busy-waits, ms. */
  readonly stalledMs: number;
  /** Longest event-loop block actually produced (busy-wait plus whatever ran around it), ms. */
  readonly longestMs: number;
}

/** Busy-waits `ms` on the event loop. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: the point is to block the event loop
  }
}

/** The stall start offsets (ms from the start) for a spec: pure, so it is unit-tested. */
export function stallSchedule(spec: StallSpec): number[] {
  if (spec.jitterMs > spec.everyMs - spec.stallMs) throw new RangeError('stalls: jitter would overlap stalls');
  const rng = new Prng(spec.seed);
  const out: number[] = [];
  let at = 0;
  // bounded: every step advances by at least everyMs - jitterMs > 0
  for (;;) {
    at += spec.everyMs - spec.jitterMs + rng.nextFloat() * 2 * spec.jitterMs;
    if (at + spec.stallMs > spec.durationMs) return out;
    out.push(Math.round(at));
  }
}

/** Runs the schedule on real timers; resolves after `durationMs`. */
export function injectStalls(spec: StallSpec): Promise<StallReport> {
  const schedule = stallSchedule(spec);
  const t0 = performance.now();
  let stalls = 0;
  let stalledMs = 0;
  let longestMs = 0;
  return new Promise((resolve) => {
    const next = (): void => {
      const at = schedule[stalls];
      if (at === undefined) {
        const rest = Math.max(0, spec.durationMs - (performance.now() - t0));
        setTimeout(() => resolve({ stalls, stalledMs, longestMs }), rest);
        return;
      }
      setTimeout(
        () => {
          const s = performance.now();
          busyWait(spec.stallMs);
          const took = performance.now() - s;
          stalls++;
          stalledMs += took;
          longestMs = Math.max(longestMs, took);
          next();
        },
        Math.max(0, at - (performance.now() - t0)),
      );
    };
    next();
  });
}
