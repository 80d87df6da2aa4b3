/**
 * Timers for membership: the injected setTimeout/clearTimeout seam (real
 * timers are unref'd so membership never keeps a process alive), and a group
 * that tracks every timer of one Membership so shutdown leaves none, with
 * deadlines that notice when our own event loop stalled past them.
 */
import type { Clock } from '../store/clock.js';

/** Opaque timer handle of a MembershipTimers implementation. */
export type TimerHandle = unknown;

/** setTimeout/clearTimeout, injected (the simulation runs nodes on virtual or stall-aware timers). */
export interface MembershipTimers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers, unref'd. */
export const realTimers: MembershipTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Cancels a scheduled callback; safe to call twice or after it ran. */
export type Cancel = () => void;

const noop: Cancel = () => {};

/** Every timer of one owner, cleared at once by `clearAll`. */
export class TimerGroup {
  private readonly handles = new Set<TimerHandle>();
  private readonly sleepers = new Set<(reason: Error) => void>();
  private closed = false;

  constructor(
    private readonly timers: MembershipTimers,
    private readonly clock: Clock,
    private readonly driftToleranceMs: number,
  ) {}

  /** Runs `fn` after `ms` unless cancelled or the group was cleared. */
  after(ms: number, fn: () => void): Cancel {
    if (this.closed) return noop;
    const handle: TimerHandle = this.timers.setTimeout(
      () => {
        this.handles.delete(handle);
        fn();
      },
      Math.max(0, ms),
    );
    this.handles.add(handle);
    return () => {
      if (this.handles.delete(handle)) this.timers.clearTimeout(handle);
    };
  }

  /**
   * A deadline measured in time our event loop was running: when the timer
   * fires later than scheduled by more than the drift tolerance (our loop
   * stalled, so replies may sit unread behind it), it is re-armed by the delay
   * (capped at `ms`), at most `maxExtensions` times, calling `onExtend` each
   * time. `fn(true)` when it finally fired on time; `fn(false)` when every
   * extension fired late too.
   */
  deadline(
    ms: number,
    fn: (onTime: boolean) => void,
    onExtend?: (extensionMs: number) => void,
    maxExtensions = 2,
  ): Cancel {
    let cancel: Cancel = noop;
    let extensions = 0;
    const arm = (delay: number): void => {
      const due = this.clock.now() + delay;
      cancel = this.after(delay, () => {
        const late = this.clock.now() - due;
        if (late <= this.driftToleranceMs) fn(true);
        else if (extensions++ < maxExtensions) {
          const extensionMs = Math.min(late, ms);
          arm(extensionMs);
          onExtend?.(extensionMs);
        } else fn(false);
      });
    };
    arm(ms);
    return () => cancel();
  }

  /** Resolves after `ms`; rejects with the reason given to `clearAll` if the group is cleared first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('timers cleared'));
        return;
      }
      const abort = (reason: Error): void => reject(reason);
      this.sleepers.add(abort);
      this.after(ms, () => {
        this.sleepers.delete(abort);
        resolve();
      });
    });
  }

  /** Clears every pending timer, rejects pending sleeps with `reason`, and refuses new timers. */
  clearAll(reason: Error): void {
    this.closed = true;
    for (const handle of this.handles) this.timers.clearTimeout(handle);
    this.handles.clear();
    for (const abort of this.sleepers) abort(reason);
    this.sleepers.clear();
  }

  /** Pending timers (tests check that none are left). */
  get size(): number {
    return this.handles.size;
  }
}
