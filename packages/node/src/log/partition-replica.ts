/**
 * One topic partition as held by this node: its log, the index of producer
 * message ids (dedupe window), and, while this node leads the partition, the
 * consumer groups' delivery state. Followers keep the groups' last snapshots
 * so a new leader continues where the old one committed (at-least-once).
 */
import type { GroupSettings, StartFrom } from '@shoal/protocol';
import type { Clock } from '../store/clock.js';
import { GroupPartitionState } from './groups/group-partition-state.js';
import type { LogRecord } from './storage/log-record.js';
import { PartitionLog } from './storage/partition-log.js';
import type { ResolvedTopicOptions } from './topic-options.js';

/** A partition replica's identity. */
export interface PartitionId {
  topic: string;
  partition: number;
}

/** The map key of a partition replica: `topic\0partition` (topic names are A-Z a-z 0-9 . _ : - /). */
export const partitionKey = (id: PartitionId): string => `${id.topic}\u0000${id.partition}`;

/** Where a consumer group starts when it first reads a partition, and its delivery settings. */
export type { GroupSettings, StartFrom } from '@shoal/protocol';

/** This node's copy of one topic partition. */
export class PartitionReplica {
  readonly log: PartitionLog;
  /** producer id -> offset, insertion ordered by append time, for the dedupe window */
  private readonly ids = new Map<string, { offset: number; at: number }>();
  /** group -> delivery state (leader only) */
  readonly groups = new Map<string, GroupPartitionState>();
  /** group -> last snapshot received from the leader (followers) */
  readonly groupSnapshots = new Map<string, unknown>();
  /** group -> settings the snapshot was made with */
  readonly groupSettings = new Map<string, GroupSettings>();
  /** Followers this leader has sent the topic options to (they travel with the first replication only). */
  readonly optionsSentTo = new Set<string>();
  /** Table version at which this node last took over as leader (0 = not leading). */
  ledAt = 0;
  /** The takeover in progress (or done) for `ledAt`. */
  takeover: Promise<void> | undefined;
  /** Callers waiting for new records or due redeliveries (long polls). */
  private waiters: (() => void)[] = [];

  constructor(
    readonly id: PartitionId,
    readonly topic: ResolvedTopicOptions,
    private readonly clock: Clock,
    dir: string | undefined,
  ) {
    this.log = new PartitionLog({
      ...(dir === undefined ? {} : { dir }),
      maxMessages: topic.maxMessages === Number.POSITIVE_INFINITY ? undefined : topic.maxMessages,
      maxBytes: topic.maxBytes,
      maxAgeMs: topic.maxAgeMs,
      maxMessageBytes: topic.maxMessageBytes,
      clock,
    } as never).open();
    for (const record of this.log.read(this.log.startOffset, {
      maxMessages: 1_000_000,
      maxBytes: Number.MAX_SAFE_INTEGER,
    })) {
      this.remember(record);
    }
  }

  /** The offset a producer id was appended at, if within the dedupe window. */
  offsetOfId(id: string): number | undefined {
    this.expireIds();
    return this.ids.get(id)?.offset;
  }

  /** Indexes a record's producer id (after any append, leader or follower). */
  remember(record: LogRecord): void {
    if (record.id !== undefined) this.ids.set(record.id, { offset: record.offset, at: record.timestamp });
  }

  private expireIds(): void {
    const cutoff = this.clock.now() - this.topic.dedupeWindowMs;
    for (const [id, entry] of this.ids) {
      if (entry.at >= cutoff) break;
      this.ids.delete(id);
    }
  }

  /** Resolves when records are appended or `timeoutMs` passes (long poll). */
  waitForChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /** Wakes every long poll (new records, or a group changed). */
  notify(): void {
    // a woken waiter removes itself from the array it registered in: iterate a copy, or every second one is skipped
    const waiters = this.waiters.slice();
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The group's delivery state, created (or restored from the last snapshot) on first use at the leader. */
  group(name: string, from: StartFrom, settings: GroupSettings, instanceId: string): GroupPartitionState {
    let state = this.groups.get(name);
    if (state !== undefined) return state;
    const common = {
      topic: this.id.topic,
      partition: this.id.partition,
      group: name,
      ackTimeoutMs: settings.ackTimeoutMs,
      maxDeliveries: settings.maxDeliveries,
      maxUnacked: settings.maxUnacked,
      clock: this.clock,
      instanceId,
    };
    const snapshot = this.groupSnapshots.get(name);
    if (snapshot !== undefined) {
      state = GroupPartitionState.restore(snapshot, common as never);
    } else {
      state = new GroupPartitionState({ ...common, startOffset: this.resolveStart(from) } as never);
    }
    this.groupSettings.set(name, settings);
    state.setEndOffset(this.log.endOffset);
    this.groups.set(name, state);
    return state;
  }

  private resolveStart(from: StartFrom): number {
    if (from === 'earliest') return this.log.startOffset;
    if (from === 'latest') return this.log.endOffset;
    if (typeof from === 'number') return Math.min(Math.max(from, this.log.startOffset), this.log.endOffset);
    return this.log.offsetForTimestamp(from.timestamp);
  }

  /** Stops serving (the node is closing or the partition moved away). */
  async close(): Promise<void> {
    this.notify();
    await this.log.close();
  }
}
