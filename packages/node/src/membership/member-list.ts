/**
 * The member table and its state handlers: the pure core of SWIM. Each
 * handler takes one claim (alive, suspect, dead, left) and either rejects it
 * with a guard clause (unknown member, stale incarnation, final state) or
 * applies it, re-broadcasts it and reports what changed. Claims about this
 * node itself are refuted with a higher incarnation instead. No network, no
 * timers of its own: tests drive every transition directly.
 */
import type { Member, MemberState } from './member.js';
import {
  type AliveUpdate,
  type DeadUpdate,
  type LeftUpdate,
  MembershipMessageKind,
  type MemberUpdate,
  type SuspectUpdate,
} from './membership-messages.js';
import type { Suspicion } from './suspicion.js';

/** Events about other members (never about this node). */
export type MembershipEventMap = {
  /** A member became alive: first seen, or back from dead/left with a higher incarnation. */
  'member-join': [member: Member];
  /** A member left gracefully. */
  'member-leave': [member: Member];
  /** A member was declared dead (suspicion timed out here or elsewhere). */
  'member-dead': [member: Member];
  /** A live member changed: meta or address (new incarnation), or alive <-> suspect. */
  'member-update': [member: Member, previous: Member];
  /** A member became suspect (`from` is who suspected it first). */
  suspect: [member: Member, from: string];
  /** A suspect member refuted and is alive again. */
  alive: [member: Member];
};

/** What the member list needs from its owner. */
export interface MemberListHooks {
  /** Queues an update for dissemination. */
  broadcast(update: MemberUpdate): void;
  /** Starts the suspicion timer of `member` (already marked suspect), first suspected by `from`. */
  startSuspicion(member: Member, from: string): Suspicion;
  /** We refuted a suspect/dead claim about ourselves (a local-health signal). */
  refuted(): void;
  /** A member id was added to the table. */
  added(id: string): void;
  /** Reports a change. */
  emit<K extends keyof MembershipEventMap>(event: K, ...args: MembershipEventMap[K]): void;
  /** Current time, ms. */
  now(): number;
}

interface Entry {
  readonly id: string;
  address: string;
  state: MemberState;
  incarnation: number;
  meta: Readonly<Record<string, unknown>> | undefined;
  changedAt: number; // when `state` last changed, ms
  suspicion: Suspicion | undefined; // set exactly while state is 'suspect'
}

function snapshot(e: Entry): Member {
  return Object.freeze(
    e.meta === undefined
      ? { id: e.id, address: e.address, state: e.state, incarnation: e.incarnation }
      : { id: e.id, address: e.address, state: e.state, incarnation: e.incarnation, meta: e.meta },
  );
}

function sameMeta(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined) {
  return a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The members this node knows, itself included, with the SWIM state handlers. */
export class MemberList {
  private readonly entries = new Map<string, Entry>();
  private readonly self: Entry;
  private isLeaving = false;

  constructor(
    selfId: string,
    selfAddress: string,
    selfMeta: Readonly<Record<string, unknown>> | undefined,
    private readonly hooks: MemberListHooks,
  ) {
    this.self = {
      id: selfId,
      address: selfAddress,
      state: 'alive',
      incarnation: 0,
      meta: selfMeta,
      changedAt: hooks.now(),
      suspicion: undefined,
    };
    this.entries.set(selfId, this.self);
  }

  /** This node's id. */
  get selfId(): string {
    return this.self.id;
  }

  /** True once `markSelfLeft` ran: claims about ourselves are no longer refuted. */
  get leaving(): boolean {
    return this.isLeaving;
  }

  /** This node as others should see it. */
  local(): Member {
    return snapshot(this.self);
  }

  /** The member `id`, if known. */
  get(id: string): Member | undefined {
    const e = this.entries.get(id);
    return e === undefined ? undefined : snapshot(e);
  }

  /** Every known member, this node included. */
  all(): Member[] {
    return [...this.entries.values()].map(snapshot);
  }

  /** Other members in one of `states`. */
  others(states: readonly MemberState[]): Member[] {
    const out: Member[] = [];
    for (const e of this.entries.values()) if (e !== this.self && states.includes(e.state)) out.push(snapshot(e));
    return out;
  }

  /** N: alive and suspect members, this node included (at least 1). */
  liveCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'alive' || e.state === 'suspect') n++;
    return Math.max(1, n);
  }

  /** Time of the last state change of `id`, ms. */
  changedAt(id: string): number | undefined {
    return this.entries.get(id)?.changedAt;
  }

  /** Applies any update. Returns true when it changed this node's view of another member. */
  apply(update: MemberUpdate): boolean {
    switch (update.kind) {
      case MembershipMessageKind.Alive:
        return this.applyAlive(update);
      case MembershipMessageKind.Suspect:
        return this.applySuspect(update);
      case MembershipMessageKind.Dead:
        return this.applyDead(update);
      case MembershipMessageKind.Left:
        return this.applyLeft(update);
    }
  }

  /** "Member is alive at incarnation i": new member, refutation, or meta change. */
  applyAlive(u: AliveUpdate): boolean {
    if (u.id === this.self.id) return this.aliveAboutSelf(u);
    const e = this.entries.get(u.id);
    if (e === undefined) {
      const entry: Entry = {
        id: u.id,
        address: u.address,
        state: 'alive',
        incarnation: u.incarnation,
        meta: u.meta ?? undefined,
        changedAt: this.hooks.now(),
        suspicion: undefined,
      };
      this.entries.set(u.id, entry);
      this.hooks.added(u.id);
      this.hooks.broadcast(u);
      this.hooks.emit('member-join', snapshot(entry));
      return true;
    }
    if (u.incarnation <= e.incarnation) return false; // stale or already known: only a newer claim wins
    const previous = snapshot(e);
    const changed = e.address !== u.address || !sameMeta(e.meta, u.meta ?? undefined);
    this.setState(e, 'alive', u.incarnation);
    e.address = u.address;
    e.meta = u.meta ?? undefined;
    this.hooks.broadcast(u);
    const member = snapshot(e);
    if (previous.state === 'dead' || previous.state === 'left') this.hooks.emit('member-join', member);
    else if (previous.state === 'suspect') {
      this.hooks.emit('alive', member);
      this.hooks.emit('member-update', member, previous);
    } else if (changed) this.hooks.emit('member-update', member, previous);
    return true;
  }

  /** "from suspects member at incarnation i". */
  applySuspect(u: SuspectUpdate): boolean {
    const e = this.entries.get(u.id);
    if (e === undefined) return false; // unknown member: nothing to suspect
    if (u.incarnation < e.incarnation) return false; // about an older life, already refuted
    if (e === this.self) return this.refuteUnlessLeaving(u.incarnation, true);
    if (e.state === 'suspect' && u.incarnation === e.incarnation) {
      if (e.suspicion?.confirm(u.from)) this.hooks.broadcast(u); // new confirmation: others may count it too
      return false;
    }
    if (e.state === 'dead' || e.state === 'left') return false; // already gone
    const previous = snapshot(e);
    this.setState(e, 'suspect', u.incarnation);
    e.suspicion = this.hooks.startSuspicion(snapshot(e), u.from);
    this.hooks.broadcast(u);
    const member = snapshot(e);
    this.hooks.emit('suspect', member, u.from);
    this.hooks.emit('member-update', member, previous);
    return true;
  }

  /** "from declared member dead at incarnation i". */
  applyDead(u: DeadUpdate): boolean {
    const e = this.entries.get(u.id);
    if (e === undefined) return false; // unknown member
    if (u.incarnation < e.incarnation) return false; // about an older life
    if (e === this.self) return this.refuteUnlessLeaving(u.incarnation, true);
    if (e.state === 'dead' || e.state === 'left') return false; // already gone
    this.setState(e, 'dead', u.incarnation);
    this.hooks.broadcast(u);
    this.hooks.emit('member-dead', snapshot(e));
    return true;
  }

  /** "member left at incarnation i". Final for that incarnation: only a newer alive brings it back. */
  applyLeft(u: LeftUpdate): boolean {
    const e = this.entries.get(u.id);
    if (e === undefined) return false; // unknown member
    if (u.incarnation < e.incarnation) return false; // about an older life
    if (e === this.self) return this.refuteUnlessLeaving(u.incarnation, false);
    if (e.state === 'left') return false; // already left
    const wasDead = e.state === 'dead';
    this.setState(e, 'left', u.incarnation);
    this.hooks.broadcast(u);
    if (!wasDead) this.hooks.emit('member-leave', snapshot(e)); // a dead member already left the cluster
    return true;
  }

  /**
   * Merges a full state received by push-pull from member `from`. Remote
   * 'dead' is taken as a suspicion (we check for ourselves before burying a
   * member we think alive).
   */
  merge(members: readonly Member[], from: string): void {
    for (const r of members) {
      const { id, incarnation } = r;
      if (r.state === 'alive') {
        this.applyAlive(
          r.meta === undefined
            ? { kind: MembershipMessageKind.Alive, id, address: r.address, incarnation }
            : { kind: MembershipMessageKind.Alive, id, address: r.address, incarnation, meta: r.meta },
        );
      } else if (r.state === 'left') this.applyLeft({ kind: MembershipMessageKind.Left, id, incarnation });
      else this.applySuspect({ kind: MembershipMessageKind.Suspect, id, incarnation, from });
    }
  }

  /** Our own alive claim at the current incarnation. */
  selfAlive(): AliveUpdate {
    const { id, address, incarnation, meta } = this.self;
    return meta === undefined
      ? { kind: MembershipMessageKind.Alive, id, address, incarnation }
      : { kind: MembershipMessageKind.Alive, id, address, incarnation, meta };
  }

  /** Changes our meta under a new incarnation and broadcasts it. */
  setSelfMeta(meta: Readonly<Record<string, unknown>> | undefined): void {
    this.self.meta = meta;
    this.self.incarnation++;
    this.hooks.broadcast(this.selfAlive());
  }

  /** Marks this node left at incarnation + 1 and broadcasts it; claims about us are no longer refuted. */
  markSelfLeft(): LeftUpdate {
    this.isLeaving = true;
    this.setState(this.self, 'left', this.self.incarnation + 1);
    const update: LeftUpdate = {
      kind: MembershipMessageKind.Left,
      id: this.self.id,
      incarnation: this.self.incarnation,
    };
    this.hooks.broadcast(update);
    return update;
  }

  /** Removes dead and left members whose state is older than `retentionMs`; returns them. */
  reap(retentionMs: number): Member[] {
    const now = this.hooks.now();
    const removed: Member[] = [];
    for (const e of this.entries.values()) {
      if (e === this.self || (e.state !== 'dead' && e.state !== 'left')) continue;
      if (now - e.changedAt < retentionMs) continue;
      this.entries.delete(e.id);
      removed.push(snapshot(e));
    }
    return removed;
  }

  /** Stops every suspicion timer (shutdown). */
  cancelSuspicions(): void {
    for (const e of this.entries.values()) e.suspicion?.cancel();
  }

  private setState(e: Entry, state: MemberState, incarnation: number): void {
    if (e.state !== state) e.changedAt = this.hooks.now();
    e.suspicion?.cancel();
    e.suspicion = undefined;
    e.state = state;
    e.incarnation = incarnation;
  }

  private aliveAboutSelf(u: AliveUpdate): boolean {
    if (this.isLeaving || u.incarnation < this.self.incarnation) return false; // leaving, or an older claim
    const ours = u.incarnation === this.self.incarnation && u.address === this.self.address;
    if (ours && sameMeta(u.meta ?? undefined, this.self.meta)) return false; // our own claim coming back
    return this.refuteUnlessLeaving(u.incarnation, false); // a claim from a previous life of this id
  }

  /** Out-votes a claim about ourselves at `seen` with incarnation seen + 1. */
  private refuteUnlessLeaving(seen: number, healthSignal: boolean): boolean {
    if (this.isLeaving) return false;
    this.self.incarnation = Math.max(this.self.incarnation, seen) + 1;
    this.hooks.broadcast(this.selfAlive());
    if (healthSignal) this.hooks.refuted();
    return false;
  }
}
