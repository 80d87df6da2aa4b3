/**
 * The delivery state of one consumer group on one topic partition, as a pure
 * state machine: which offsets are leased to which member, which wait for a
 * redelivery, which are done, and the committed offset below which everything
 * is. No I/O and no timers: the caller feeds it the log's end offset, takes
 * deliveries, reports acks, and calls `tick()` at `nextDueAt()`.
 *
 *          committed offset     read cursor         end offset
 *          │  done, leased,     │  never delivered  │
 *          │  waiting, dead     │                   │
 *   ───────┼────────────────────┼───────────────────┼────► offsets
 *          └ ≤ maxUncommitted ──┘
 *   unacked (leased + waiting) ≤ maxUnacked; done offsets above the commit are a bitmap of that window.
 *
 * Each offset in the window is in exactly one state:
 *
 *   take ──► leased ──ack──────────────────────────────────────────► done (commit advances over it)
 *              │ nack, lease expiry, member removed:
 *              ├── deliveries < maxDeliveries ──► waiting ──take, once its backoff passed──► leased
 *              ├── deliveries = maxDeliveries ──► dead ──confirmDeadLetter──► done
 *              └── reject ──────────────────────► dead
 *   waiting ──extend (while not handed out again)──► leased
 *
 * One larger file on purpose: every transition works on the same private indexes.
 */
import { ShoalError } from '@shoal/protocol';
import { backoffDelay } from './backoff.js';
import { DeadlineHeap, type DeadlineItem } from './deadline-heap.js';
import { formatDeliveryId, parseDeliveryId } from './delivery-id.js';
import { DoneWindow } from './done-window.js';
import {
  type GroupPartitionOptions,
  type ResolvedGroupPartitionOptions,
  resolveGroupPartitionOptions,
} from './group-partition-options.js';
import {
  type DeadLetterEntry,
  type GroupPartitionSnapshot,
  type PendingEntry,
  validateGroupPartitionSnapshot,
} from './group-partition-snapshot.js';
import type {
  DeadLetter,
  DeadLetterReason,
  Delivery,
  GroupPartitionStats,
  PauseReason,
} from './group-partition-types.js';

const LEASED = 0;
const WAITING = 1;
const DEAD = 2;

/** One offset in the window that is not done. */
interface PendingOffset extends DeadlineItem {
  // DeadlineItem.at: lease expiry when LEASED, redelivery time when WAITING, unused when DEAD
  state: typeof LEASED | typeof WAITING | typeof DEAD;
  deliveries: number; // handouts so far (restored from the snapshot after a failover)
  seq: number; // seq of the latest handout by this instance; -1 when none
  memberId: string; // holder of the latest handout ('' when none)
  deliveredAt: number; // when the latest handout was made (maxLeaseMs counts from it)
  firstDeliveredAt: number; // first handout here (or restore time): oldestUnackedAgeMs
  lastError: string | undefined;
  reason: DeadLetterReason | undefined; // when DEAD
}

/** Options of `GroupPartitionState.restore`: the snapshot gives the position, so no startOffset. */
export type RestoreOptions = Omit<GroupPartitionOptions, 'startOffset'>;

/**
 * Delivery state of one consumer group on one topic partition: leases, acks, redelivery with backoff,
 * dead letters, the committed offset, flow control, and a snapshot for replication. take (per delivery),
 * ack, nack, reject, extend and tick (per expiry) are O(log n) in the outstanding deliveries, commit
 * advance amortised O(1) per offset; seek, snapshot and restore are O(maxUncommitted).
 */
export class GroupPartitionState {
  /** Resolved options. */
  readonly options: ResolvedGroupPartitionOptions;
  private committed: number;
  private cursor: number;
  private end = 0;
  private readonly pending = new Map<number, PendingOffset>(); // offsets in [committed, cursor) not done
  private readonly leases = new DeadlineHeap<PendingOffset>(); // LEASED, by lease expiry
  private readonly due = new DeadlineHeap<PendingOffset>(); // WAITING, by redelivery time
  private readonly holders = new Map<string, Set<PendingOffset>>(); // member -> its LEASED offsets
  private readonly done: DoneWindow; // done offsets in (committed, cursor)
  private outbox: DeadLetter[] = []; // dead letters not yet returned by tick()
  private deadCount = 0; // pending entries in state DEAD
  private nextSeq = 0;
  private seekSeq = 0; // handouts with a lower seq were made before the last seek
  private acked = 0;
  private redeliveries = 0;
  private deadLetters = 0;

  constructor(options: GroupPartitionOptions) {
    this.options = resolveGroupPartitionOptions(options);
    this.committed = this.cursor = this.options.startOffset;
    this.done = new DoneWindow(this.options.maxUncommitted);
  }

  /**
   * Rebuilds the state a previous leader replicated. Nothing is leased: every pending offset is
   * redeliverable at once with its delivery count, unconfirmed dead letters are emitted again by the next
   * `tick()`, and nothing below the committed offset is delivered again. Delivery ids of the previous
   * instance are unknown here (give each instance its own `instanceId`, as the default does).
   */
  static restore(snapshot: unknown, options: RestoreOptions): GroupPartitionState {
    const s = validateGroupPartitionSnapshot(snapshot);
    const state = new GroupPartitionState({ ...options, startOffset: s.committedOffset });
    state.load(s);
    return state;
  }

  /** Lowest offset not yet acked or dead-lettered (and confirmed): everything below it is done. */
  get committedOffset(): number {
    return this.committed;
  }

  /** Next offset never delivered. */
  get readCursor(): number {
    return this.cursor;
  }

  /** End of the partition (one past its last offset), as last set. */
  get endOffset(): number {
    return this.end;
  }

  /** Tells the state the partition now ends at `endOffset` (one past its last message). Never decreases. */
  setEndOffset(endOffset: number): void {
    if (!Number.isSafeInteger(endOffset) || endOffset < this.end) {
      throw this.argumentError(`endOffset ${endOffset} must be an integer ≥ the current end ${this.end}`, 'endOffset');
    }
    this.end = endOffset;
  }

  /**
   * Hands up to `max` messages to `memberId`: first redeliveries whose backoff has passed (earliest first),
   * then new offsets from the read cursor while fewer than `maxUnacked` are unacked and the window is
   * below `maxUncommitted`. Expired leases are processed first.
   */
  take(max: number, memberId: string): Delivery[] {
    if (!Number.isSafeInteger(max) || max < 0) throw this.argumentError(`max ${max} is not an integer ≥ 0`, 'max');
    if (typeof memberId !== 'string' || memberId.length === 0) {
      throw this.argumentError('memberId must be a non-empty string', 'memberId');
    }
    const now = this.options.clock.now();
    this.expire(now);
    const out: Delivery[] = [];
    for (let p = this.due.peek(); out.length < max && p !== undefined && p.at <= now; p = this.due.peek()) {
      this.due.remove(p);
      out.push(this.handOut(p, memberId, now));
    }
    while (out.length < max && this.canReadNew()) {
      const p = this.newPending(this.cursor++, now);
      out.push(this.handOut(p, memberId, now));
    }
    return out;
  }

  /**
   * The message of this delivery is done. Accepted while the delivery is the latest handout of its
   * message, even after its lease expired if nobody has been handed the message since.
   * @throws SHOAL_LOG_UNKNOWN_DELIVERY, SHOAL_LOG_STALE_DELIVERY (see `resolve`).
   */
  ack(deliveryId: string): void {
    const p = this.resolve(deliveryId);
    this.detach(p);
    this.pending.delete(p.offset);
    this.acked++;
    this.markDone(p.offset);
  }

  /**
   * The delivery failed: the message is redelivered after `delayMs` (default: the backoff for its delivery
   * count), or dead-lettered when it had `maxDeliveries` deliveries. On a delivery whose lease already
   * expired (already waiting), only moves the redelivery time to now + `delayMs` when given.
   */
  nack(deliveryId: string, delayMs?: number, lastError?: string): void {
    if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw this.argumentError(`delayMs ${delayMs} is not a number ≥ 0`, 'delayMs');
    }
    const p = this.resolve(deliveryId);
    const now = this.options.clock.now();
    if (p.state === LEASED) {
      this.fail(p, now, delayMs, lastError ?? 'nacked');
      return;
    }
    if (lastError !== undefined) p.lastError = lastError;
    if (delayMs !== undefined) {
      p.at = now + delayMs;
      this.due.update(p);
    }
  }

  /** The message cannot be processed (poison): dead-letter it now with reason 'rejected'. */
  reject(deliveryId: string, lastError?: string): void {
    const p = this.resolve(deliveryId);
    if (lastError !== undefined) p.lastError = lastError;
    this.deadLetter(p, 'rejected');
  }

  /**
   * Extends the lease by `extraMs` from its current end (or from now if it already ended and nobody has
   * been handed the message since: the lease is then re-armed). Returns the new lease end.
   * @throws SHOAL_LOG_LEASE_LIMIT when the lease would end more than `maxLeaseMs` after the handout.
   */
  extend(deliveryId: string, extraMs: number): number {
    if (!(Number.isFinite(extraMs) && extraMs > 0)) {
      throw this.argumentError(`extraMs ${extraMs} is not a number > 0`, 'extraMs');
    }
    const p = this.resolve(deliveryId);
    const now = this.options.clock.now();
    const leaseExpiresAt = (p.state === LEASED ? Math.max(p.at, now) : now) + extraMs;
    const limit = p.deliveredAt + this.options.maxLeaseMs;
    if (leaseExpiresAt > limit) {
      throw new ShoalError('SHOAL_LOG_LEASE_LIMIT', `lease cannot end past maxLeaseMs after the handout`, {
        ...this.where(),
        deliveryId,
        offset: p.offset,
        requested: leaseExpiresAt,
        maxLeaseExpiresAt: limit,
      });
    }
    p.at = leaseExpiresAt;
    if (p.state === LEASED) {
      this.leases.update(p);
    } else {
      this.due.remove(p);
      this.lease(p);
    }
    return leaseExpiresAt;
  }

  /**
   * Processes expired leases (redelivery with backoff, or dead letter) and returns the dead letters produced
   * since the last call (by expiry, nack, reject, member removal or restore). Append each to `<topic>.dlq`,
   * then `confirmDeadLetter(offset)`.
   */
  tick(): DeadLetter[] {
    this.expire(this.options.clock.now());
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /**
   * The dead letter of `offset` is durably in the dead-letter topic: the offset is done and the commit may
   * pass it. Returns false (and changes nothing) when no dead letter of that offset awaits confirmation,
   * so a retried confirmation is harmless.
   */
  confirmDeadLetter(offset: number): boolean {
    const p = this.pending.get(offset);
    if (p === undefined || p.state !== DEAD) return false;
    this.pending.delete(offset);
    this.deadCount--;
    this.markDone(offset);
    return true;
  }

  /**
   * The member left the group (or died): its leased messages become redeliverable at once, without
   * backoff. Their handout still counts toward `maxDeliveries` (a message that crashes every consumer
   * must end in the dead-letter topic), so one already at the limit is dead-lettered. Returns how many
   * leased messages the member had.
   */
  removeMember(memberId: string): number {
    const held = this.holders.get(memberId);
    if (held === undefined) return 0;
    const now = this.options.clock.now();
    const leased = [...held]; // fail() empties the set as it goes
    for (const p of leased) this.fail(p, now, 0, 'member removed');
    return leased.length;
  }

  /**
   * Replay: delivery restarts at `offset`, which becomes the committed offset too (moving it back
   * re-delivers what was done; forward skips). Everything pending is forgotten: leases, waiting
   * redeliveries, delivery counts, and unconfirmed dead letters (a backward seek delivers them again).
   * Deliveries handed out before the seek are stale from then on.
   */
  seek(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw this.argumentError(`offset ${offset} is not an integer ≥ 0`, 'offset');
    }
    this.pending.clear();
    this.leases.clear();
    this.due.clear();
    this.holders.clear();
    this.done.clear();
    this.outbox = [];
    this.deadCount = 0;
    this.seekSeq = this.nextSeq;
    this.committed = this.cursor = offset;
  }

  /**
   * When `tick()` has something to do: the earliest lease expiry or redelivery time, now when dead letters
   * wait to be returned, undefined when nothing is timed.
   */
  nextDueAt(): number | undefined {
    if (this.outbox.length > 0) return this.options.clock.now();
    const lease = this.leases.peek()?.at;
    const due = this.due.peek()?.at;
    if (lease === undefined) return due;
    return due === undefined ? lease : Math.min(lease, due);
  }

  /**
   * Why new offsets are held back although the log has some, or undefined. The caller reports a change
   * (event and metric): a pause is never silent.
   */
  pausedReason(): PauseReason | undefined {
    if (this.cursor >= this.end) return undefined;
    if (this.unacked() >= this.options.maxUnacked) return 'max-unacked';
    if (this.cursor - this.committed >= this.options.maxUncommitted) return 'max-uncommitted';
    return undefined;
  }

  /** Lag and health. */
  stats(): GroupPartitionStats {
    const head = this.pending.get(this.committed);
    const pausedReason = this.pausedReason();
    return {
      committedOffset: this.committed,
      readCursor: this.cursor,
      endOffset: this.end,
      lag: Math.max(0, this.end - this.committed),
      unacked: this.unacked(),
      inFlight: this.leases.size,
      waiting: this.due.size,
      pendingDeadLetters: this.deadCount,
      oldestUnackedAgeMs: head === undefined ? 0 : Math.max(0, this.options.clock.now() - head.firstDeliveredAt),
      acked: this.acked,
      redeliveries: this.redeliveries,
      deadLetters: this.deadLetters,
      paused: pausedReason !== undefined,
      pausedReason,
    };
  }

  /** The replicated form (no leases): O(maxUncommitted). See GroupPartitionSnapshot. */
  snapshot(): GroupPartitionSnapshot {
    const done: number[] = [];
    const pending: PendingEntry[] = [];
    const deadLetters: DeadLetterEntry[] = [];
    let runStart = -1;
    for (let o = this.committed; o < this.cursor; o++) {
      if (this.done.has(o)) {
        if (runStart < 0) runStart = o;
        continue;
      }
      if (runStart >= 0) done.push(runStart, o);
      runStart = -1;
      const p = this.pending.get(o)!;
      if (p.state === DEAD) deadLetters.push([o, p.deliveries, p.reason!, p.lastError ?? null]);
      else pending.push([o, p.deliveries]);
    }
    if (runStart >= 0) done.push(runStart, this.cursor);
    return { v: 1, committedOffset: this.committed, readCursor: this.cursor, done, pending, deadLetters };
  }

  // ---- internals ----

  private load(s: GroupPartitionSnapshot): void {
    const now = this.options.clock.now();
    // A window wider than this instance allows is cut: offsets past the cut are delivered again.
    this.cursor = Math.min(s.readCursor, this.committed + this.options.maxUncommitted);
    for (let i = 0; i < s.done.length; i += 2) {
      const to = Math.min(s.done[i + 1]!, this.cursor);
      for (let o = Math.max(s.done[i]!, this.committed); o < to; o++) this.done.mark(o);
    }
    const counts = new Map(s.pending);
    const dead = new Map(s.deadLetters.map((entry) => [entry[0], entry]));
    for (let o = this.committed; o < this.cursor; o++) {
      if (this.done.has(o)) continue;
      const p = this.newPending(o, now);
      const letter = dead.get(o);
      if (letter !== undefined) {
        p.deliveries = letter[1];
        p.lastError = letter[3] ?? undefined;
        this.deadLetter(p, letter[2], false);
        continue;
      }
      p.deliveries = counts.get(o) ?? 0;
      if (p.deliveries >= this.options.maxDeliveries) {
        p.lastError = 'max deliveries reached before restore';
        this.deadLetter(p, 'max-deliveries');
        continue;
      }
      p.state = WAITING;
      p.at = now;
      this.due.push(p);
    }
    this.advanceCommit();
  }

  private unacked(): number {
    return this.pending.size - this.deadCount;
  }

  private canReadNew(): boolean {
    return (
      this.cursor < this.end &&
      this.unacked() < this.options.maxUnacked &&
      this.cursor - this.committed < this.options.maxUncommitted
    );
  }

  private newPending(offset: number, now: number): PendingOffset {
    const p: PendingOffset = {
      at: 0,
      offset,
      heapIndex: -1,
      state: WAITING,
      deliveries: 0,
      seq: -1,
      memberId: '',
      deliveredAt: now,
      firstDeliveredAt: now,
      lastError: undefined,
      reason: undefined,
    };
    this.pending.set(offset, p);
    return p;
  }

  private handOut(p: PendingOffset, memberId: string, now: number): Delivery {
    p.deliveries++;
    if (p.deliveries > 1) this.redeliveries++;
    p.seq = this.nextSeq++;
    p.memberId = memberId;
    p.deliveredAt = now;
    p.at = now + this.options.ackTimeoutMs;
    this.lease(p);
    return {
      deliveryId: formatDeliveryId(this.options.instanceId, p.offset, p.seq),
      offset: p.offset,
      deliveries: p.deliveries,
      memberId,
      leaseExpiresAt: p.at,
    };
  }

  /** Puts `p` (in no heap, `at` set) under lease to `p.memberId`. */
  private lease(p: PendingOffset): void {
    p.state = LEASED;
    this.leases.push(p);
    let held = this.holders.get(p.memberId);
    if (held === undefined) {
      held = new Set();
      this.holders.set(p.memberId, held);
    }
    held.add(p);
  }

  /** Takes `p` out of whichever heap and holder set it is in. */
  private detach(p: PendingOffset): void {
    if (p.state === LEASED) {
      this.leases.remove(p);
      const held = this.holders.get(p.memberId);
      held?.delete(p);
      if (held?.size === 0) this.holders.delete(p.memberId);
    } else if (p.state === WAITING) {
      this.due.remove(p);
    }
  }

  private expire(now: number): void {
    // The failure happened at the lease end, however late the caller ticks: backoff counts from there.
    for (let p = this.leases.peek(); p !== undefined && p.at <= now; p = this.leases.peek()) {
      this.fail(p, p.at, undefined, 'lease expired');
    }
  }

  /** A handout of `p` failed at `now`: redeliver after `delayMs` (default backoff), or dead-letter at the limit. */
  private fail(p: PendingOffset, now: number, delayMs: number | undefined, lastError: string): void {
    p.lastError = lastError;
    if (p.deliveries >= this.options.maxDeliveries) {
      this.deadLetter(p, 'max-deliveries');
      return;
    }
    this.detach(p);
    p.state = WAITING;
    p.at = now + (delayMs ?? backoffDelay(p.deliveries, this.options.backoff, this.options.random));
    this.due.push(p);
  }

  private deadLetter(p: PendingOffset, reason: DeadLetterReason, count = true): void {
    this.detach(p);
    p.state = DEAD;
    p.reason = reason;
    this.deadCount++;
    if (count) this.deadLetters++;
    const letter: DeadLetter =
      p.lastError === undefined
        ? { offset: p.offset, deliveries: p.deliveries, reason }
        : { offset: p.offset, deliveries: p.deliveries, reason, lastError: p.lastError };
    this.outbox.push(letter);
  }

  private markDone(offset: number): void {
    if (offset !== this.committed) {
      this.done.mark(offset);
      return;
    }
    this.committed++;
    this.advanceCommit();
  }

  private advanceCommit(): void {
    while (this.committed < this.cursor && this.done.has(this.committed)) {
      this.done.unmark(this.committed);
      this.committed++;
    }
  }

  /**
   * The pending offset whose latest handout is `deliveryId`. A delivery stays current until its message
   * is handed out again (Kafka/SQS-like leniency: a late ack of work nobody else has is kept), so:
   * - SHOAL_LOG_UNKNOWN_DELIVERY: not an id, issued by another instance (a previous leader), never issued;
   * - SHOAL_LOG_STALE_DELIVERY: issued here but superseded: `redelivered` (a newer handout exists; its ack
   *   is not given to the late one), `done` (already acked or dead-lettered), `seek` (made before a seek).
   */
  private resolve(deliveryId: string): PendingOffset {
    const parts = parseDeliveryId(deliveryId);
    if (parts === undefined) throw this.deliveryError('unknown', deliveryId, 'malformed');
    if (parts.instanceId !== this.options.instanceId) throw this.deliveryError('unknown', deliveryId, 'other-instance');
    if (parts.seq >= this.nextSeq) throw this.deliveryError('unknown', deliveryId, 'never-issued');
    if (parts.seq < this.seekSeq) throw this.deliveryError('stale', deliveryId, 'seek', parts.offset);
    const p = this.pending.get(parts.offset);
    if (p === undefined || p.state === DEAD) throw this.deliveryError('stale', deliveryId, 'done', parts.offset);
    if (p.seq > parts.seq) throw this.deliveryError('stale', deliveryId, 'redelivered', parts.offset);
    if (p.seq < parts.seq) throw this.deliveryError('unknown', deliveryId, 'never-issued');
    return p;
  }

  private where(): Record<string, unknown> {
    return { topic: this.options.topic, partition: this.options.partition, group: this.options.group };
  }

  private deliveryError(kind: 'unknown' | 'stale', deliveryId: string, reason: string, offset?: number): ShoalError {
    const code = kind === 'unknown' ? 'SHOAL_LOG_UNKNOWN_DELIVERY' : 'SHOAL_LOG_STALE_DELIVERY';
    const message =
      kind === 'unknown'
        ? `delivery ${JSON.stringify(deliveryId)} is unknown here (${reason})`
        : `delivery ${JSON.stringify(deliveryId)} is no longer current (${reason})`;
    const details = { ...this.where(), deliveryId, reason };
    return new ShoalError(code as never, message, offset === undefined ? details : { ...details, offset });
  }

  private argumentError(message: string, argument: string): ShoalError {
    return new ShoalError('SHOAL_ARGUMENT_INVALID', message, { ...this.where(), argument });
  }
}
