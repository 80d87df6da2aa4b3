/**
 * The write path of a topic partition between its leader and followers:
 * the leader turns the LogAppend requests of one incoming frame into one log
 * append and one LogReplicate per follower, and answers each request once
 * its ack level's number of copies hold it (a retried producer id gets its
 * first offset, once that one has its copies); a follower accepts records
 * only at its end and reports a gap so the leader resends from there.
 *
 *   producer --LogAppend [topic, p, columns, acks]--> leader: append, then
 *   leader --LogReplicate [topic, p, first, timestamps, columns, options]--> followers
 *   leader <--{ endOffset, gap?, needOptions? }-- follower
 *   producer <--[base, dups]-- leader (once `needed` copies hold the batch)
 */
import { isShoalError, MessageKind, ShoalError } from '@shoal/protocol';
import { awaitQuorum } from '../replication/await-quorum.js';
import type { ClusterView } from '../replication/cluster-view.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import {
  type AppendColumns,
  type AppendReply,
  inputsFromColumns,
  type ReplicateBody,
  recordsFromReplicate,
  replicateBody,
} from './append-wire.js';
import { partitionKey as key, type PartitionId, type PartitionReplica } from './partition-replica.js';
import type { AppendInput, LogRecord, ReplicatedInput } from './storage/log-record.js';
import type { ResolvedTopicOptions } from './topic-options.js';

/** LogAppend body. */
export type AppendBody = [topic: string, partition: number, columns: AppendColumns, acks: 'leader' | 'quorum'];
/** Leader side: one LogAppend request (all of a producer's appends to a partition in one tick). */
type LeaderRequest = {
  inputs: AppendInput[];
  resolve: (reply: AppendReply) => void;
  reject: (e: unknown) => void;
};
/** Offsets [from, to) appended by a flush still waiting for its copies. */
type InFlight = { from: number; to: number; done: Promise<void> };

/** What the write path needs from the node's log. */
export interface ReplicationHost {
  readonly view: ClusterView;
  readonly transport: PeerTransport;
  /** The partition's replica on this node, if it has one. */
  existing(id: PartitionId): PartitionReplica | undefined;
  /** Opens (creates) the partition's replica on this node. */
  open(id: PartitionId, options: ResolvedTopicOptions): PartitionReplica;
  topicOptions(topic: string): Promise<ResolvedTopicOptions>;
  /** Resolves once this node, as a new leader, has adopted the longest log among the holders. */
  ensureLed(replica: PartitionReplica): Promise<void>;
  /** Throws SHOAL_CLUSTER_NOT_OWNER unless this node leads the partition. */
  checkLeader(id: PartitionId): void;
  ownersOf(id: PartitionId): readonly string[];
}

/** The leader's and the followers' side of appending to partitions, on one node. */
export class PartitionWrites {
  /** Leader side: this tick's LogAppend requests per partition and ack level. */
  private readonly batches = new Map<string, LeaderRequest[]>();
  /** Leader side: per partition, the flushes not yet acknowledged (a retried id waits for its original). */
  private readonly inFlight = new Map<string, InFlight[]>();

  constructor(private readonly host: ReplicationHost) {}

  /**
   * Leader: queues a request; the requests of one incoming frame (dispatched
   * together, so they resume in one microtask run) become one log append and
   * one replication per follower.
   */
  async leaderAppend(body: AppendBody): Promise<AppendReply> {
    if (
      !Array.isArray(body) ||
      body.length !== 4 ||
      typeof body[0] !== 'string' ||
      !Number.isInteger(body[1]) ||
      (body[3] !== 'leader' && body[3] !== 'quorum')
    ) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a log append is [topic, partition, columns, acks]');
    }
    const [topic, partition, columns, acks] = body;
    const inputs = inputsFromColumns(columns);
    const id = { topic, partition };
    this.host.checkLeader(id);
    // the options are not on the wire: a leader holding the partition has them, a new one reads the topic's
    const replica = this.host.existing(id) ?? this.host.open(id, await this.host.topicOptions(topic));
    await this.host.ensureLed(replica);
    const k = `${key(id)}\u0000${acks}`;
    return new Promise<AppendReply>((resolve, reject) => {
      const batch = this.batches.get(k);
      if (batch !== undefined) batch.push({ inputs, resolve, reject });
      else {
        this.batches.set(k, [{ inputs, resolve, reject }]);
        queueMicrotask(() => this.flush(k, replica, acks));
      }
    });
  }

  /**
   * Writes the queued requests as one log append and one replication per
   * follower. A producer id seen before (or earlier in this batch) is not
   * appended again: it gets the first offset, once that one has its copies.
   */
  private flush(k: string, replica: PartitionReplica, acks: 'leader' | 'quorum'): void {
    const requests = this.batches.get(k) ?? [];
    this.batches.delete(k);
    this.write(replica, acks, requests);
  }

  private write(replica: PartitionReplica, acks: 'leader' | 'quorum', requests: LeaderRequest[]): void {
    const end = replica.log.endOffset;
    const fresh: AppendInput[] = [];
    /** Index in `fresh` of each request's first fresh message (a request's fresh messages are contiguous). */
    const starts: number[] = [];
    const replies: AppendReply[] = [];
    // per request: what its reply waits for (this write, earlier writes of the originals of its duplicates)
    const waits: Promise<void>[][] = [];
    const THIS_WRITE = Promise.resolve(); // placeholder, replaced once this write's replication starts
    let batchIds: Map<string, number> | undefined;
    for (const request of requests) {
      let base = -1;
      const dups: number[] = [];
      const wait: Promise<void>[] = [];
      starts.push(fresh.length);
      for (let i = 0; i < request.inputs.length; i++) {
        const input = request.inputs[i] as AppendInput;
        if (input.id !== undefined) {
          const seen = replica.offsetOfId(input.id) ?? batchIds?.get(input.id);
          if (seen !== undefined) {
            dups.push(i, seen);
            const original = seen >= end ? THIS_WRITE : this.inFlightAt(replica, seen);
            if (original !== undefined && !wait.includes(original)) wait.push(original);
            continue;
          }
          batchIds ??= new Map();
          batchIds.set(input.id, end + fresh.length);
        }
        if (base < 0) {
          base = end + fresh.length;
          if (!wait.includes(THIS_WRITE)) wait.push(THIS_WRITE);
        }
        fresh.push(input);
      }
      replies.push([base, dups]);
      waits.push(wait);
    }
    let appended: Promise<void> = THIS_WRITE;
    if (fresh.length > 0) {
      try {
        replica.log.append(fresh);
      } catch (err) {
        this.dropBadRequest(replica, acks, requests, starts, err);
        return;
      }
      appended = this.replicateFresh(replica, end, fresh.length, acks);
    }
    for (const [i, request] of requests.entries()) {
      const reply = replies[i] as AppendReply;
      const wait = (waits[i] as Promise<void>[]).map((w) => (w === THIS_WRITE ? appended : w));
      if (wait.length === 0) request.resolve(reply);
      else if (wait.length === 1) (wait[0] as Promise<void>).then(() => request.resolve(reply), request.reject);
      else Promise.all(wait).then(() => request.resolve(reply), request.reject);
    }
  }

  /**
   * The log refused a batch (all or none). A message it names fails only its own request; the
   * other requests of the frame are written again without it (at most once per request).
   */
  private dropBadRequest(
    replica: PartitionReplica,
    acks: 'leader' | 'quorum',
    requests: LeaderRequest[],
    starts: number[],
    err: unknown,
  ): void {
    const index = isShoalError(err) ? err.details?.index : undefined;
    let culprit = -1;
    if (typeof index === 'number')
      for (let r = 0; r < starts.length; r++) if ((starts[r] as number) <= index) culprit = r;
    if (culprit < 0 || requests.length === 1) {
      for (const r of requests) r.reject(err);
      return;
    }
    (requests[culprit] as LeaderRequest).reject(err);
    this.write(
      replica,
      acks,
      requests.filter((_, r) => r !== culprit),
    );
  }

  /** Indexes, wakes consumers and replicates offsets [base, base + count) just appended; tracked until acknowledged. */
  private replicateFresh(
    replica: PartitionReplica,
    base: number,
    count: number,
    acks: 'leader' | 'quorum',
  ): Promise<void> {
    // read back as stored: the records carry the timestamp and size the log gave them
    const records = replica.log.read(base, { maxMessages: count, maxBytes: Number.MAX_SAFE_INTEGER });
    for (const r of records) if (r.id !== undefined) replica.remember(r);
    for (const state of replica.groups.values()) state.setEndOffset(replica.log.endOffset);
    replica.notify();
    const owners = this.host.ownersOf(replica.id);
    const needed = acks === 'leader' ? 1 : Math.floor(owners.length / 2) + 1;
    const done = this.replicateTo(replica, owners, records, needed);
    const pk = key(replica.id);
    const entry: InFlight = { from: base, to: base + count, done };
    const list = this.inFlight.get(pk);
    if (list === undefined) this.inFlight.set(pk, [entry]);
    else list.push(entry);
    const untrack = () => {
      const l = this.inFlight.get(pk);
      const i = l?.indexOf(entry) ?? -1;
      if (i >= 0) l?.splice(i, 1);
      if (l?.length === 0) this.inFlight.delete(pk);
    };
    done.then(untrack, untrack);
    return done;
  }

  /** The replication still running for `offset`, if its flush has not been acknowledged yet. */
  private inFlightAt(replica: PartitionReplica, offset: number): Promise<void> | undefined {
    for (const f of this.inFlight.get(key(replica.id)) ?? []) if (offset >= f.from && offset < f.to) return f.done;
    return undefined;
  }

  /** Sends records to every follower at once; resolves when `needed` copies (the leader's included) hold them. */
  private replicateTo(
    replica: PartitionReplica,
    owners: readonly string[],
    records: LogRecord[],
    needed: number,
  ): Promise<void> {
    const followers = owners.filter((o) => o !== this.host.view.selfId);
    return awaitQuorum(followers, (f) => this.sendRecords(replica, f, records), 1, needed, key(replica.id));
  }

  /** Leader: sends records to one follower; on a gap, resends from the follower's end (bounded rounds). */
  async sendRecords(replica: PartitionReplica, follower: string, records: readonly LogRecord[]): Promise<void> {
    const address = this.host.view.addressOf(follower);
    if (address === undefined) throw new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `no address for ${follower}`);
    const { topic, partition } = replica.id;
    let batch: readonly LogRecord[] = records;
    for (let round = 0; round < 64; round++) {
      // the topic options go to a follower once; one that lost them (a restart) asks again
      const options = replica.optionsSentTo.has(follower) ? null : replica.topic;
      replica.optionsSentTo.add(follower);
      const reply = (await this.host.transport.request(
        address,
        MessageKind.LogReplicate,
        replicateBody(topic, partition, batch, options),
        10_000,
      )) as { endOffset: number; gap?: number; needOptions?: boolean };
      if (reply.needOptions === true) {
        replica.optionsSentTo.delete(follower);
        continue;
      }
      if (reply.gap === undefined) return;
      // the follower is behind: send what it lacks first, then the batch again
      const from = Math.max(reply.gap, replica.log.startOffset);
      if (from >= replica.log.endOffset) return;
      batch = replica.log.read(from, { maxMessages: 5000, maxBytes: 8 * 1024 * 1024 });
      if (reply.gap < replica.log.startOffset) {
        const reset = replicateBody(topic, partition, [], replica.topic);
        reset[2] = replica.log.startOffset;
        reset.push(replica.log.startOffset);
        await this.host.transport.request(address, MessageKind.LogReplicate, reset, 10_000);
      }
    }
    throw new ShoalError('SHOAL_REPLICATION_QUORUM', `follower ${follower} did not catch up on ${key(replica.id)}`);
  }

  /** Follower: appends records at its end; reports a gap so the leader resends from there. */
  followerAppend(body: unknown): { endOffset: number; gap?: number; needOptions?: boolean } {
    if (!Array.isArray(body) || body.length < 6 || body.length > 7 || typeof body[0] !== 'string') {
      throw new ShoalError(
        'SHOAL_PROTOCOL_INVALID',
        'a log replicate is [topic, partition, firstOffset, timestamps, columns, options, resetTo?]',
      );
    }
    const [topic, partition, firstOffset, timestamps, columns, options, resetTo] = body as ReplicateBody;
    const id = { topic, partition };
    if (!this.host.ownersOf(id).includes(this.host.view.selfId)) {
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', `not an owner of ${topic}/${partition}`);
    }
    let replica = this.host.existing(id);
    if (replica === undefined) {
      if (options === null) return { endOffset: 0, needOptions: true };
      replica = this.host.open(id, options);
    }
    if (typeof resetTo === 'number' && replica.log.endOffset < resetTo) replica.log.resetTo(resetTo);
    const records = recordsFromReplicate(firstOffset, timestamps, columns);
    if (records.length === 0) return { endOffset: replica.log.endOffset };
    const first = records[0] as ReplicatedInput;
    if (first.offset < replica.log.endOffset) {
      // overlap: if what we hold there differs (a deposed leader's unacknowledged tail), drop our tail
      const [mine] = replica.log.read(first.offset, { maxMessages: 1 });
      if (mine !== undefined && (mine.timestamp !== first.timestamp || mine.id !== first.id))
        replica.log.truncateFrom(first.offset);
    }
    const result = replica.log.appendReplicated(records);
    if (result.status === 'gap') return { endOffset: replica.log.endOffset, gap: result.expectedOffset };
    for (const r of records) if (r.id !== undefined) replica.remember(r as LogRecord);
    return { endOffset: replica.log.endOffset };
  }
}
