/**
 * The transmit-limited queue behind SWIM's infection-style dissemination: each
 * state update is handed to a bounded number of messages (piggybacked on
 * probes or gossiped), least-transmitted first, and a newer update about a
 * member replaces the queued one, so the queue never holds stale news.
 * Suspicions of one member from different members coexist: each is an
 * independent confirmation others need to count (Lifeguard).
 */
import { MembershipMessageKind, type MemberUpdate } from './membership-messages.js';

interface Queued {
  readonly update: MemberUpdate;
  transmits: number;
  readonly seq: number; // enqueue order: newer first among equal transmits
}

// Key of an update within its member's bucket: one claim per member, except suspicions (one per suspecting member).
function subKey(update: MemberUpdate): string {
  return update.kind === MembershipMessageKind.Suspect ? `suspect:${update.from}` : 'state';
}

/** Updates waiting to be disseminated: per member, its latest claim (or its latest suspicions). */
export class BroadcastQueue {
  private readonly byMember = new Map<string, Map<string, Queued>>();
  private count = 0;
  private seq = 0;

  /** @param limit how many times an update is transmitted (retransmitMult × ceil(log10(N + 1))), read at each take. */
  constructor(private readonly limit: () => number) {}

  /** Updates waiting. */
  get size(): number {
    return this.count;
  }

  /**
   * Queues `update`, replacing what it makes stale: any update about the same
   * member, except that a suspicion keeps other members' suspicions of the
   * same incarnation.
   */
  enqueue(update: MemberUpdate): void {
    const bucket = this.byMember.get(update.id) ?? new Map<string, Queued>();
    for (const [key, q] of bucket) {
      const sameRound =
        update.kind === MembershipMessageKind.Suspect &&
        q.update.kind === MembershipMessageKind.Suspect &&
        q.update.incarnation === update.incarnation;
      if (!sameRound && bucket.delete(key)) this.count--;
    }
    const key = subKey(update);
    if (!bucket.has(key)) this.count++;
    bucket.set(key, { update, transmits: 0, seq: ++this.seq });
    this.byMember.set(update.id, bucket);
  }

  /**
   * Up to `max` updates for one message, least transmitted (then newest) first.
   * Each counts as one transmission; an update that reached the limit is dropped.
   */
  take(max: number): MemberUpdate[] {
    if (this.count === 0 || max <= 0) return [];
    const limit = this.limit();
    const chosen: Queued[] = [];
    for (const bucket of this.byMember.values()) for (const q of bucket.values()) chosen.push(q);
    chosen.sort((a, b) => a.transmits - b.transmits || b.seq - a.seq);
    chosen.length = Math.min(chosen.length, max);
    for (const q of chosen) {
      q.transmits++;
      if (q.transmits >= limit) this.remove(q.update);
    }
    return chosen.map((q) => q.update);
  }

  /** The queued updates about `id`. */
  peek(id: string): MemberUpdate[] {
    return [...(this.byMember.get(id)?.values() ?? [])].map((q) => q.update);
  }

  /** Drops everything. */
  clear(): void {
    this.byMember.clear();
    this.count = 0;
  }

  private remove(update: MemberUpdate): void {
    const bucket = this.byMember.get(update.id);
    if (bucket === undefined || !bucket.delete(subKey(update))) return;
    this.count--;
    if (bucket.size === 0) this.byMember.delete(update.id);
  }
}
