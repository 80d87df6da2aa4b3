/**
 * What one node knows about another: the public shape of a member, shared by
 * the member list, the wire messages (push-pull carries members as they are)
 * and everything above membership (ring, replication, node).
 */

/**
 * A member's state as this node sees it.
 * - `alive`: answering probes.
 * - `suspect`: a probe failed; the member has until the suspicion timeout to refute.
 * - `dead`: the suspicion timed out (or another member declared it dead); it may come back with a higher incarnation.
 * - `left`: it announced a graceful leave; final for that incarnation.
 */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** Every state, in protocol order. */
export const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** One member of the cluster. Plain data (msgpack-able); the meta is opaque to membership. */
export interface Member {
  /** Stable node id, unique in the cluster. */
  readonly id: string;
  /** Where its peer endpoint listens, 'host:port'. */
  readonly address: string;
  readonly state: MemberState;
  /**
   * Version of the member's own claims. Only the member itself raises it (to
   * refute a suspicion, change its meta or leave); a claim with a lower
   * incarnation than the one known is stale and ignored.
   */
  readonly incarnation: number;
  /** Small metadata the member gossips about itself (partition count, syncing flag, ...). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** True when the member takes part in the cluster (alive or suspect). */
export function isLive(member: Member): boolean {
  return member.state === 'alive' || member.state === 'suspect';
}
