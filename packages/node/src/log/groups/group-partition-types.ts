/**
 * The values GroupPartitionState hands to its caller: deliveries to run,
 * dead letters to append to `<topic>.dlq`, and the lag/health snapshot behind
 * the group's metrics. Plain objects, so they travel as msgpack unchanged.
 */

/** One handout of one message to one member of the group. */
export interface Delivery {
  /** Opaque id for ack / nack / reject / extend. Unique per handout: a redelivery gets a new id. */
  readonly deliveryId: string;
  /** Offset of the message in the partition (the caller fetches the body from the log). */
  readonly offset: number;
  /** Handouts of this message so far, this one included (1 on first delivery). */
  readonly deliveries: number;
  /** The member it was handed to. */
  readonly memberId: string;
  /** When the lease ends (ms): unacked by then, the message is redelivered. */
  readonly leaseExpiresAt: number;
}

/**
 * Why a message was dead-lettered: `max-deliveries` when its last allowed delivery failed (nack, lease
 * expiry, or its member was removed); `rejected` when the consumer called `reject` (poison message).
 */
export type DeadLetterReason = 'max-deliveries' | 'rejected';

/** A message to append to `<topic>.dlq`, then confirm with `confirmDeadLetter(offset)`. */
export interface DeadLetter {
  /** Offset of the message in the source partition. */
  readonly offset: number;
  /** Handouts it had. */
  readonly deliveries: number;
  readonly reason: DeadLetterReason;
  /** The last failure: the error given to nack/reject, 'lease expired' or 'member removed'. */
  readonly lastError?: string;
}

/**
 * Why new offsets are not being delivered although the log has some: `max-unacked` (as many unacked
 * messages as `maxUnacked`) or `max-uncommitted` (the read cursor is `maxUncommitted` past the committed
 * offset: a message at the head is stuck, or dead letters wait for confirmation).
 */
export type PauseReason = 'max-unacked' | 'max-uncommitted';

/** Lag and health of one group on one partition (all counts since this instance was created). */
export interface GroupPartitionStats {
  /** Lowest offset not yet acked or dead-lettered: everything below it is done. */
  readonly committedOffset: number;
  /** Next offset never delivered. */
  readonly readCursor: number;
  /** End of the partition as last told by `setEndOffset`. */
  readonly endOffset: number;
  /** endOffset − committedOffset (≥ 0): messages not done. */
  readonly lag: number;
  /** Messages delivered and not done: in flight + waiting for redelivery. */
  readonly unacked: number;
  /** Messages currently leased to a member. */
  readonly inFlight: number;
  /** Messages waiting for their backoff to pass before redelivery. */
  readonly waiting: number;
  /** Dead letters emitted and not yet confirmed (they hold the committed offset back). */
  readonly pendingDeadLetters: number;
  /** Age (ms) of the message at the committed offset since its first delivery here; 0 when none. */
  readonly oldestUnackedAgeMs: number;
  /** Acks accepted. */
  readonly acked: number;
  /** Handouts beyond the first of a message. */
  readonly redeliveries: number;
  /** Messages dead-lettered. */
  readonly deadLetters: number;
  /** Whether delivery of new offsets is paused by a limit. */
  readonly paused: boolean;
  /** The limit, when paused. */
  readonly pausedReason: PauseReason | undefined;
}
