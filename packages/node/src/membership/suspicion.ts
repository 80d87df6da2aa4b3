/**
 * One suspicion of one member, with Lifeguard's dynamic timeout: it starts at
 * the maximum and shrinks toward the minimum as other members independently
 * confirm the suspicion, so a real failure is declared quickly while a
 * suspicion only we hold (perhaps our own fault) lasts long enough to refute.
 */
import type { Clock } from '../store/clock.js';
import type { Cancel } from './timers.js';

/**
 * Timeout after `confirmations` of `k` wanted, in ms from the start of the
 * suspicion: max − (max − min) × log(c + 1) / log(k + 1), never below min
 * (min when k is 0). The caller subtracts the time already elapsed.
 */
export function suspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k <= 0) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)));
}

/** What a suspicion needs: when it started, how to schedule, what to do on expiry. */
export interface SuspicionInit {
  /** Member whose suspicion started it; its own suspect messages are not confirmations. */
  readonly from: string;
  /** Confirmations that bring the timeout to `minMs`. */
  readonly k: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly clock: Clock;
  /** Schedules `fn` after `ms` (a stall-aware deadline in Membership). */
  readonly schedule: (ms: number, fn: () => void) => Cancel;
  /** Called once when the timeout expires, with the confirmations seen. */
  readonly onTimeout: (confirmations: number) => void;
}

/** A running suspicion timer. */
export class Suspicion {
  private readonly confirmedBy = new Set<string>();
  private readonly startedAt: number;
  private cancelTimer: Cancel;
  private done = false;

  constructor(private readonly init: SuspicionInit) {
    this.confirmedBy.add(init.from);
    this.startedAt = init.clock.now();
    this.cancelTimer = init.schedule(init.maxMs, () => this.expire());
  }

  /** Independent confirmations so far (the originator excluded). */
  get confirmations(): number {
    return this.confirmedBy.size - 1;
  }

  /** Time left before expiry, in ms (0 when expired or cancelled). */
  remainingMs(): number {
    if (this.done) return 0;
    const { k, minMs, maxMs, clock } = this.init;
    const total = suspicionTimeoutMs(this.confirmations, k, minMs, maxMs);
    return Math.max(0, total - (clock.now() - this.startedAt));
  }

  /**
   * Counts `from` as a confirmation. Returns true when it was new information
   * (a member not counted yet, while fewer than k confirmed), which callers
   * re-gossip so others can count it too.
   */
  confirm(from: string): boolean {
    if (this.done || this.confirmations >= this.init.k || this.confirmedBy.has(from)) return false;
    this.confirmedBy.add(from);
    this.cancelTimer();
    const remaining = this.remainingMs();
    if (remaining <= 0) this.expire();
    else this.cancelTimer = this.init.schedule(remaining, () => this.expire());
    return true;
  }

  /** Stops the timer (the member refuted, or was declared dead or left otherwise). Idempotent. */
  cancel(): void {
    this.done = true;
    this.cancelTimer();
  }

  private expire(): void {
    if (this.done) return;
    this.done = true;
    this.init.onTimeout(this.confirmations);
  }
}
