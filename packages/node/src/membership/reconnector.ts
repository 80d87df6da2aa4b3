/**
 * The background loop that heals partitions: seeds that are not live members,
 * members we declared dead and addresses of dead members already forgotten
 * are retried one at a time with a push-pull, forever, with exponential
 * backoff. When the other side of a long outage answers, the exchange makes
 * both sides refute and re-learn each other.
 */
import type { Member } from './member.js';
import type { ResolvedMembershipConfig } from './membership-config.js';
import type { Random } from './random.js';
import type { TimerGroup } from './timers.js';

/** Most addresses of forgotten dead members still retried. */
export const MAX_REMEMBERED_ADDRESSES = 64;

/** What the reconnector needs from its Membership. */
export interface ReconnectorInit {
  readonly config: ResolvedMembershipConfig;
  readonly timers: TimerGroup;
  readonly random: Random;
  readonly selfAddress: string;
  /** Current member table. */
  members(): Member[];
  /** Push-pull with `address`; true when it answered. */
  pushPull(address: string): Promise<boolean>;
  /** False once leaving or stopped. */
  isRunning(): boolean;
}

/** Retries seeds and lost members with backoff. */
export class Reconnector {
  private readonly seeds = new Set<string>();
  private readonly remembered: string[] = []; // oldest first
  private backoffMs: number;

  constructor(private readonly init: ReconnectorInit) {
    this.backoffMs = init.config.reconnectIntervalMs;
  }

  /** Starts the loop (not at all when reconnectIntervalMs is 0). */
  start(): void {
    if (this.init.config.reconnectIntervalMs > 0) this.schedule();
  }

  /** Adds seed addresses, retried whenever no live member has them. */
  addSeeds(addresses: readonly string[]): void {
    for (const a of addresses) if (a !== this.init.selfAddress) this.seeds.add(a);
  }

  /** Keeps the addresses of reaped dead members (left ones left on purpose). */
  remember(reaped: readonly Member[]): void {
    for (const m of reaped) {
      if (m.state !== 'dead' || this.remembered.includes(m.address)) continue;
      this.remembered.push(m.address);
      if (this.remembered.length > MAX_REMEMBERED_ADDRESSES) this.remembered.shift();
    }
  }

  /** Addresses worth a reconnection attempt now. */
  candidates(): string[] {
    const members = this.init.members();
    const live = new Set<string>([this.init.selfAddress]);
    for (const m of members) if (m.state === 'alive' || m.state === 'suspect') live.add(m.address);
    const out = new Set<string>();
    for (const m of members) if (m.state === 'dead' && !live.has(m.address)) out.add(m.address);
    for (const a of this.seeds) if (!live.has(a)) out.add(a);
    for (const a of this.remembered) if (!live.has(a)) out.add(a);
    return [...out];
  }

  private schedule(): void {
    // Jitter in [0.5, 1.5) keeps nodes that lost the same peer from retrying in lockstep.
    this.init.timers.after(this.backoffMs * (0.5 + this.init.random.next()), () => void this.attempt());
  }

  private async attempt(): Promise<void> {
    if (!this.init.isRunning()) return;
    const { config, random } = this.init;
    const candidates = this.candidates();
    if (candidates.length === 0) {
      this.backoffMs = config.reconnectIntervalMs;
    } else {
      const address = candidates[Math.floor(random.next() * candidates.length)]!;
      const answered = await this.init.pushPull(address).catch(() => false);
      if (!this.init.isRunning()) return;
      this.backoffMs = answered
        ? config.reconnectIntervalMs
        : Math.min(this.backoffMs * 2, config.reconnectMaxIntervalMs);
    }
    this.schedule();
  }
}
