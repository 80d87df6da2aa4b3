/**
 * `node.log`: durable, replicated topics on the cluster's ring. A topic
 * partition lives on the owners of ring partition partitionOf(topic + '\0' + p):
 * the primary is its leader, the other owners follow. Producers send the
 * appends of one synchronous run as one request per partition; the leader
 * makes the requests of one frame one log append and one replication batch per
 * follower, and answers once the ack level's number of copies hold it
 * (partition-writes.ts; columns on the wire, append-wire.ts).
 * Followers accept records only at their end (a gap makes the leader resend
 * from there). A node that becomes leader first adopts the longest log among
 * the partition's other holders, and after every table change a leader brings
 * its followers up to date, so a partition survives the loss of any one node.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isShoalError, MessageKind, ShoalError } from '@shoal/protocol';
import type { ClusterCache } from '../cluster/cluster-cache.js';
import { hashKey } from '../eviction/key-hash.js';
import type { ClusterView } from '../replication/cluster-view.js';
import type { Clock } from '../store/clock.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { settleReply, toColumns } from './append-wire.js';
import { type ConsumedMessage, type ConsumeOptions, Consumer } from './consumer.js';
import type { GroupPartitionState } from './groups/group-partition-state.js';
import { type IteratedMessage, messageIterator } from './message-iterator.js';
import {
  type GroupSettings,
  partitionKey as key,
  type PartitionId,
  PartitionReplica,
  type StartFrom,
} from './partition-replica.js';
import { type AppendBody, PartitionWrites } from './partition-writes.js';
import type { AppendInput, LogRecord, ReplicatedInput } from './storage/log-record.js';
import {
  type AppendOptions,
  appendAcks,
  checkTopicName,
  type ResolvedTopicOptions,
  resolveTopicOptions,
  type TopicOptions,
} from './topic-options.js';
import {
  type CheckResult,
  type PreparedMessage,
  type PrepareOptions,
  type Transaction,
  Transactions,
} from './transactions.js';

/** Where an appended message landed. */
export interface AppendReceipt {
  partition: number;
  offset: number;
  /** True when the id had been appended before (a retried append): offset is the first one's. */
  duplicate: boolean;
}

/** Lag of one group on one partition. */
export interface PartitionLag {
  partition: number;
  endOffset: number;
  committedOffset: number;
  lag: number;
  unacked: number;
  oldestUnackedAgeMs: number;
  redeliveries: number;
  deadLetters: number;
  paused: boolean;
}

/** What MessageLog needs from the node. */
export interface MessageLogDeps {
  view: ClusterView;
  transport: PeerTransport;
  cache: ClusterCache;
  clock: Clock;
  /** Directory for segment files; undefined = memory only (still replicated). */
  dataDir: string | undefined;
  requestTimeoutMs: number;
  /** How often prepared messages past their timeout are checked back, in ms. */
  transactionCheckIntervalMs: number;
  onWarning: (message: string, details: Record<string, unknown>) => void;
}

/** Producer side: one append waiting for its partition's request. */
type Pending = {
  input: AppendInput;
  resolve: (receipt: AppendReceipt) => void;
  reject: (e: unknown) => void;
};

const TOPIC_META = '__shoal:topic:';
const RETRYABLE = new Set([
  'SHOAL_TRANSPORT_UNAVAILABLE',
  'SHOAL_TRANSPORT_TIMEOUT',
  'SHOAL_TRANSPORT_CLOSED',
  'SHOAL_CLUSTER_NOT_OWNER',
  'SHOAL_REPLICATION_QUORUM',
]);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The cluster's durable message log, as seen from one node. */
export class MessageLog {
  private readonly replicas = new Map<string, PartitionReplica>();
  private readonly topics = new Map<string, ResolvedTopicOptions>();
  /** Topic options being read from the cluster, one load per topic. */
  private readonly topicLoads = new Map<string, Promise<ResolvedTopicOptions>>();
  /** The leader's and followers' write path (partition-writes.ts). */
  private readonly writes: PartitionWrites;
  /** Producer side: this tick's appends per partition, sent as one request. */
  private readonly outgoing = new Map<string, Pending[]>();
  private readonly consumers = new Set<Consumer>();
  private readonly instanceId = randomUUID().slice(0, 8);
  private roundRobin = 0;
  private closed = false;
  private readonly transactions: Transactions;
  private readonly retention: NodeJS.Timeout;

  constructor(private readonly deps: MessageLogDeps) {
    this.writes = new PartitionWrites({
      view: deps.view,
      transport: deps.transport,
      existing: (id) => this.replicas.get(key(id)),
      open: (id, options) => this.replica(id, options),
      topicOptions: (topic) => this.topicOptions(topic),
      ensureLed: (replica) => this.ensureLed(replica),
      checkLeader: (id) => this.checkLeader(id),
      ownersOf: (id) => this.ownersOf(id),
    });
    const t = deps.transport;
    t.handle(MessageKind.LogAppend, (body) => this.writes.leaderAppend(body as AppendBody));
    t.handle(MessageKind.LogReplicate, (body) => this.writes.followerAppend(body));
    t.handle(MessageKind.LogRead, (body) => this.serveRead(body));
    t.handle(MessageKind.LogEnd, (body) => this.serveEnd(body));
    t.handle(MessageKind.LogTake, (body) => this.serveTake(body));
    t.handle(MessageKind.LogAck, (body) => this.serveAck(body));
    t.handle(MessageKind.LogGroupSync, (body) => this.storeGroupSnapshot(body));
    t.handle(MessageKind.LogHandoff, (body) => this.takeHandoff(body));
    this.transactions = new Transactions(
      deps.view.selfId,
      deps.cache,
      this,
      deps.transactionCheckIntervalMs,
      deps.onWarning,
    );
    this.reopen();
    // retention by count, bytes and age, in bounded steps
    this.retention = setInterval(() => {
      for (const replica of this.replicas.values()) {
        try {
          replica.log.enforceRetention();
        } catch (err) {
          deps.onWarning('log retention failed', { partition: key(replica.id), message: String(err) });
        }
      }
    }, 1000);
    this.retention.unref();
  }

  // ------------------------------------------------------------------ transactional messages

  /** Stores a half message consumers cannot see until `tx.commit()`; `tx.rollback()` discards it. */
  prepare(topic: string, value: unknown, options?: PrepareOptions): Promise<Transaction> {
    return this.transactions.prepare(topic, value, options);
  }

  /** Registers the check-back callback that resolves prepared messages of `topic` left pending past their timeout. */
  onCheck(topic: string, callback: (message: PreparedMessage) => CheckResult | Promise<CheckResult>): void {
    this.transactions.onCheck(topic, callback);
  }

  /** Runs one check-back pass now (tests, and operators who do not want to wait for the interval). */
  checkTransactions(): Promise<number> {
    return this.transactions.checkOnce();
  }

  // ------------------------------------------------------------------ topics

  /** Creates a topic (or returns the existing one's options; options of an existing topic cannot change). */
  async createTopic(topic: string, options: TopicOptions = {}): Promise<ResolvedTopicOptions> {
    checkTopicName(topic);
    const resolved = resolveTopicOptions(options);
    await this.deps.cache.set(
      TOPIC_META + topic,
      { ...resolved, maxMessages: finiteOrNull(resolved.maxMessages) },
      { nx: true },
    );
    return this.topicOptions(topic);
  }

  /** A topic's options; a topic used before it was created gets the defaults. */
  async topicOptions(topic: string): Promise<ResolvedTopicOptions> {
    checkTopicName(topic);
    const known = this.topics.get(topic);
    if (known !== undefined) return known;
    // one load per topic: callers resume in call order, so two appends to one key keep their order
    let load = this.topicLoads.get(topic);
    if (load === undefined) {
      load = this.loadTopicOptions(topic).finally(() => this.topicLoads.delete(topic));
      this.topicLoads.set(topic, load);
    }
    return load;
  }

  private async loadTopicOptions(topic: string): Promise<ResolvedTopicOptions> {
    let stored = (await this.deps.cache.get(TOPIC_META + topic)) as Record<string, unknown> | undefined;
    if (stored === undefined) {
      const defaults = resolveTopicOptions();
      await this.deps.cache.set(TOPIC_META + topic, { ...defaults, maxMessages: null }, { nx: true });
      stored = (await this.deps.cache.get(TOPIC_META + topic)) as Record<string, unknown>;
    }
    const options = Object.freeze({
      ...(stored as unknown as ResolvedTopicOptions),
      maxMessages: (stored.maxMessages as number | null) ?? Number.POSITIVE_INFINITY,
    });
    this.topics.set(topic, options);
    return options;
  }

  // ------------------------------------------------------------------ append

  /**
   * Appends a message; resolves with its partition and offset once the ack
   * level's copies hold it ('quorum' by default: it survives any one node's SIGKILL).
   */
  append(topic: string, value: unknown, options: AppendOptions = {}): Promise<AppendReceipt> {
    let acks: 'leader' | 'quorum';
    try {
      acks = appendAcks(options);
      if (value === undefined) throw new ShoalError('SHOAL_VALUE_INVALID', 'a message value must not be undefined');
    } catch (err) {
      return Promise.reject(err);
    }
    const input: AppendInput = { value };
    if (options.key !== undefined) input.key = options.key;
    if (options.id !== undefined) input.id = options.id;
    if (options.headers !== undefined) input.headers = options.headers;
    // a known topic skips the await: one promise per append, not three
    const known = this.topics.get(topic);
    if (known !== undefined) return this.enqueueAppend(topic, known, input, acks);
    return this.topicOptions(topic).then((t) => this.enqueueAppend(topic, t, input, acks));
  }

  /**
   * Groups the appends to one partition made in one synchronous run (until
   * the next microtask checkpoint) into one LogAppend request: the leader
   * writes and replicates a request as one batch, so one request instead of
   * one per message saves most of the network cost. A microtask rather than
   * setImmediate: the request leaves in this turn of the event loop instead of
   * the next one (measured: about 1.2x append throughput with 500 in flight);
   * appends from separate I/O callbacks still share a frame (the connection
   * flushes once per turn).
   */
  private enqueueAppend(
    topic: string,
    t: ResolvedTopicOptions,
    input: AppendInput,
    acks: 'leader' | 'quorum',
  ): Promise<AppendReceipt> {
    const partition = this.choosePartition(t, input.key, input.id);
    return new Promise((resolve, reject) => {
      const k = `${topic}\u0000${partition}\u0000${acks}`;
      const queued = this.outgoing.get(k);
      if (queued !== undefined) {
        queued.push({ input, resolve, reject });
        return;
      }
      this.outgoing.set(k, [{ input, resolve, reject }]);
      queueMicrotask(() => this.sendAppends(k, topic, partition, acks));
    });
  }

  private sendAppends(k: string, topic: string, partition: number, acks: 'leader' | 'quorum'): void {
    const batch = this.outgoing.get(k) ?? [];
    this.outgoing.delete(k);
    const inputs = batch.map((b) => b.input);
    this.routed({ topic, partition }, MessageKind.LogAppend, [topic, partition, toColumns(inputs), acks]).then(
      (reply) => {
        try {
          settleReply(reply, batch.length, (i, offset, duplicate) =>
            (batch[i] as Pending).resolve({ partition, offset, duplicate }),
          );
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      },
      (err: unknown) => {
        for (const b of batch) b.reject(err);
      },
    );
  }

  private choosePartition(t: ResolvedTopicOptions, k: string | undefined, id: string | undefined): number {
    // a key keeps order; an id keeps a retried append on the same partition, so dedupe can see it
    if (k !== undefined) return hashKey(k) % t.partitions;
    if (id !== undefined) return hashKey(id) % t.partitions;
    this.roundRobin = (this.roundRobin + 1) % t.partitions;
    return this.roundRobin;
  }

  /** Sends a partition request to its leader (or runs it here), retrying through topology changes. */
  private async routed(id: PartitionId, kind: number, body: unknown[]): Promise<unknown> {
    if (this.closed) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node has been closed');
    const deadline = Date.now() + this.deps.requestTimeoutMs;
    let backoff = 10;
    for (;;) {
      const leader = this.leaderOf(id);
      try {
        if (leader === this.deps.view.selfId) return await this.local(kind, body);
        const address = leader === undefined ? undefined : this.deps.view.addressOf(leader);
        if (address === undefined) throw new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `no leader for ${key(id)}`);
        return await this.deps.transport.request(address, kind, body, Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (!isShoalError(err) || !RETRYABLE.has(err.code)) throw err;
        if (Date.now() >= deadline || this.closed) {
          throw new ShoalError(
            'SHOAL_REQUEST_TIMEOUT',
            `log request on ${id.topic}/${id.partition} timed out: ${err.message}`,
            {
              topic: id.topic,
              partition: id.partition,
              lastCode: err.code,
            },
          );
        }
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 250);
    }
  }

  private local(kind: number, body: unknown[]): unknown {
    switch (kind) {
      case MessageKind.LogAppend:
        return this.writes.leaderAppend(body as AppendBody);
      case MessageKind.LogRead:
        return this.serveRead(body);
      case MessageKind.LogTake:
        return this.serveTake(body);
      case MessageKind.LogAck:
        return this.serveAck(body);
      case MessageKind.LogEnd:
        return this.serveEnd(body);
      default:
        throw new ShoalError('SHOAL_PROTOCOL_UNKNOWN_KIND', `kind ${kind}`);
    }
  }

  private ringPartition(id: PartitionId): number {
    return this.deps.view.partitionOf(key(id));
  }

  private leaderOf(id: PartitionId): string | undefined {
    return this.deps.view.ownersOf(this.ringPartition(id))[0];
  }

  private ownersOf(id: PartitionId): readonly string[] {
    return this.deps.view.ownersOf(this.ringPartition(id));
  }

  private replica(id: PartitionId, options: ResolvedTopicOptions): PartitionReplica {
    const k = key(id);
    let replica = this.replicas.get(k);
    if (replica === undefined) {
      let dir: string | undefined;
      if (this.deps.dataDir !== undefined) {
        const topicDir = join(this.deps.dataDir, 'log', encodeURIComponent(id.topic));
        mkdirSync(topicDir, { recursive: true });
        // the options travel with the data, so a restart reopens the partition with its retention
        writeFileSync(
          join(topicDir, 'topic.json'),
          JSON.stringify({ ...options, maxMessages: finiteOrNull(options.maxMessages) }),
        );
        dir = join(topicDir, String(id.partition));
      }
      replica = new PartitionReplica(id, options, this.deps.clock, dir);
      this.replicas.set(k, replica);
    }
    return replica;
  }

  /** Reopens every partition found under dataDir (a restart): they take part in takeover and handoff again. */
  private reopen(): void {
    const root = this.deps.dataDir === undefined ? undefined : join(this.deps.dataDir, 'log');
    if (root === undefined || !existsSync(root)) return;
    for (const entry of readdirSync(root)) {
      const topicDir = join(root, entry);
      const file = join(topicDir, 'topic.json');
      if (!existsSync(file)) continue;
      const stored = JSON.parse(readFileSync(file, 'utf8')) as ResolvedTopicOptions & { maxMessages: number | null };
      const options = Object.freeze({ ...stored, maxMessages: stored.maxMessages ?? Number.POSITIVE_INFINITY });
      const topic = decodeURIComponent(entry);
      this.topics.set(topic, options);
      for (const p of readdirSync(topicDir)) {
        if (/^\d+$/.test(p)) this.replica({ topic, partition: Number(p) }, options);
      }
    }
  }

  private checkLeader(id: PartitionId): void {
    if (this.leaderOf(id) !== this.deps.view.selfId) {
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', `not the leader of ${id.topic}/${id.partition}`, {
        topic: id.topic,
        partition: id.partition,
        owners: [...this.ownersOf(id)],
        tableVersion: this.deps.view.tableVersion,
      });
    }
  }

  // ------------------------------------------------------------------ leadership and catch-up

  /** Before a new leader serves: adopt the longest log among the partition's other holders. */
  private ensureLed(replica: PartitionReplica): Promise<void> {
    const version = this.deps.view.tableVersion;
    // every caller of one takeover waits for the same promise: a group created meanwhile must not be wiped
    if (replica.ledAt === version && replica.takeover !== undefined) return replica.takeover;
    replica.ledAt = version;
    replica.takeover = this.takeOver(replica);
    return replica.takeover;
  }

  private async takeOver(replica: PartitionReplica): Promise<void> {
    const holders = new Set([
      ...this.ownersOf(replica.id),
      ...this.deps.view.previousOwnersOf(this.ringPartition(replica.id)),
    ]);
    holders.delete(this.deps.view.selfId);
    for (const holder of holders) {
      const address = this.deps.view.addressOf(holder);
      if (address === undefined) continue;
      try {
        await this.pullFrom(replica, address);
      } catch (err) {
        this.deps.onWarning('log takeover: a holder could not be read', { holder, message: (err as Error).message });
      }
    }
    // groups restart from the replicated snapshots: everything not committed is delivered again
    replica.groups.clear();
  }

  /** Copies records from another holder that has more than this replica. */
  private async pullFrom(replica: PartitionReplica, address: string): Promise<void> {
    const { id } = replica;
    const [start, end] = (await this.deps.transport.request(
      address,
      MessageKind.LogEnd,
      [id.topic, id.partition],
      5000,
    )) as [number, number];
    if (end <= replica.log.endOffset) return;
    if (replica.log.endOffset < start) replica.log.resetTo(start);
    while (replica.log.endOffset < end) {
      const records = (await this.deps.transport.request(
        address,
        MessageKind.LogRead,
        [id.topic, id.partition, replica.log.endOffset, 5000, true],
        10_000,
      )) as ReplicatedInput[];
      if (records.length === 0) break;
      replica.log.appendReplicated(records);
      for (const r of records) replica.remember(r as LogRecord);
    }
  }

  /**
   * The table changed: lead what this node now leads (takeover + bring
   * followers up to date) and hand what it no longer holds to the new leader.
   */
  tableChanged(): void {
    for (const replica of this.replicas.values()) {
      const owners = this.ownersOf(replica.id);
      if (owners[0] === this.deps.view.selfId) {
        this.ensureLed(replica)
          .then(() => this.catchUpFollowers(replica))
          .catch((err: unknown) =>
            this.deps.onWarning('log catch-up failed', { partition: key(replica.id), message: String(err) }),
          );
      } else if (!owners.includes(this.deps.view.selfId) && owners[0] !== undefined) {
        const address = this.deps.view.addressOf(owners[0]);
        if (address !== undefined) {
          this.deps.transport.send(address, MessageKind.LogHandoff, [
            replica.id.topic,
            replica.id.partition,
            replica.topic,
          ]);
        }
      }
    }
  }

  private async catchUpFollowers(replica: PartitionReplica): Promise<void> {
    if (replica.log.endOffset === replica.log.startOffset) return;
    const tail = replica.log.read(replica.log.endOffset - 1, { maxMessages: 1 });
    for (const f of this.ownersOf(replica.id)) {
      if (f !== this.deps.view.selfId) await this.writes.sendRecords(replica, f, tail).catch(() => {});
    }
    for (const [group, state] of replica.groups) this.syncGroup(replica, group, state.snapshot());
  }

  /** A previous holder says it has a partition: a leader that does not know it yet creates it and pulls. */
  private takeHandoff(body: unknown): void {
    if (!Array.isArray(body) || typeof body[0] !== 'string' || !Number.isInteger(body[1])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a log handoff is [topic, partition, options]');
    }
    const id = { topic: body[0] as string, partition: body[1] as number };
    if (this.leaderOf(id) !== this.deps.view.selfId) return;
    const replica = this.replica(id, body[2] as ResolvedTopicOptions);
    replica.ledAt = 0;
    replica.takeover = undefined;
    this.ensureLed(replica)
      .then(() => this.catchUpFollowers(replica))
      .catch(() => {});
  }

  /** [start, end] of this node's copy; with a group, that group's stats here too (lag is asked of the leader). */
  private serveEnd(body: unknown): [number, number, unknown] {
    if (!Array.isArray(body) || typeof body[0] !== 'string')
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a log end is [topic, partition, group?]');
    const [topic, partition, group] = body as [string, number, string | undefined];
    const replica = this.replicas.get(key({ topic, partition }));
    if (replica === undefined) return [0, 0, null];
    replica.groups.get(group ?? '')?.setEndOffset(replica.log.endOffset);
    const stats = group === undefined ? null : (replica.groups.get(group)?.stats() ?? null);
    return [replica.log.startOffset, replica.log.endOffset, stats];
  }

  // ------------------------------------------------------------------ reading

  /** Reads up to `maxMessages` records of one partition from `fromOffset` (served by the leader). */
  async read(topic: string, partition: number, fromOffset: number, maxMessages = 100): Promise<LogRecord[]> {
    const t = await this.topicOptions(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= t.partitions) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `partition ${partition} is not in 0..${t.partitions - 1}`);
    }
    return (await this.routed({ topic, partition }, MessageKind.LogRead, [
      topic,
      partition,
      fromOffset,
      maxMessages,
      false,
    ])) as LogRecord[];
  }

  private async serveRead(body: unknown): Promise<LogRecord[]> {
    const [topic, partition, from, max, anyReplica] = body as [string, number, number, number, boolean];
    const id = { topic, partition };
    if (!anyReplica) this.checkLeader(id);
    let replica = this.replicas.get(key(id));
    if (replica !== undefined && !anyReplica) await this.ensureLed(replica);
    else if (replica === undefined && !anyReplica) {
      // a leader that never held this partition may still have to adopt it from the previous holders
      replica = this.replica(id, await this.topicOptions(topic));
      await this.ensureLed(replica);
    }
    if (replica === undefined || from >= replica.log.endOffset) return [];
    return replica.log.read(from, { maxMessages: Math.min(Math.max(1, max), 10_000) });
  }

  // ------------------------------------------------------------------ consumer groups

  /**
   * Consumes a topic as a member of `group`: each message goes to one member;
   * the handler's success acks it, a throw or `nack` redelivers it with
   * backoff, and after `maxDeliveries` it is appended to `<topic>.dlq`.
   */
  consume(topic: string, options: ConsumeOptions, handler: (message: ConsumedMessage) => unknown): Consumer {
    checkTopicName(topic);
    if (this.closed) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node has been closed');
    const consumer = new Consumer(
      this,
      topic,
      options,
      handler,
      `${this.deps.view.selfId}/${randomUUID().slice(0, 8)}`,
    );
    this.consumers.add(consumer);
    consumer.onClose(() => this.consumers.delete(consumer));
    consumer.start();
    return consumer;
  }

  /**
   * The same as `consume`, as an async iterator: a message is acked when the
   * loop moves on (or by `m.ack()`), redelivered by `m.nack(delayMs)`; leaving
   * the loop stops the member.
   */
  messages(topic: string, options: ConsumeOptions): AsyncIterableIterator<IteratedMessage> {
    return messageIterator((handler) => this.consume(topic, options, handler));
  }

  /** @internal Consumer -> leader: deliveries for a member. */
  take(
    topic: string,
    partition: number,
    group: string,
    member: string,
    max: number,
    from: StartFrom,
    settings: GroupSettings,
    waitMs: number,
  ) {
    return this.routed({ topic, partition }, MessageKind.LogTake, [
      topic,
      partition,
      group,
      member,
      max,
      from,
      settings,
      waitMs,
    ]) as Promise<{
      deliveries: { deliveryId: string; offset: number; deliveries: number; record: LogRecord }[];
      paused: string | null;
    }>;
  }

  /** @internal Consumer -> leader: acks and nacks. */
  settle(
    topic: string,
    partition: number,
    group: string,
    acks: string[],
    nacks: [string, number | null, string | null][],
    extensions: [string, number][] = [],
  ) {
    return this.routed({ topic, partition }, MessageKind.LogAck, [
      topic,
      partition,
      group,
      acks,
      nacks,
      extensions,
    ]) as Promise<{
      errors: string[];
    }>;
  }

  /**
   * Moves a consumer group back (or forward) to an offset, or to the first
   * message at or after a time, on every partition of the topic: messages from
   * there are delivered again. The group must have read the topic before.
   */
  async replay(topic: string, group: string, from: { offset: number } | { timestamp: number }): Promise<void> {
    const t = await this.topicOptions(topic);
    const seek = 'offset' in from ? from.offset : { timestamp: from.timestamp };
    if (typeof seek === 'number' && (!Number.isSafeInteger(seek) || seek < 0)) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', 'replay offset must be a non-negative integer');
    }
    await Promise.all(
      Array.from({ length: t.partitions }, (_, partition) =>
        this.routed({ topic, partition }, MessageKind.LogAck, [topic, partition, group, [], [], [], seek]),
      ),
    );
  }

  private async serveTake(body: unknown) {
    if (!Array.isArray(body) || body.length !== 8) throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a take is 8 fields');
    const [topic, partition, group, member, max, from, settings, waitMs] = body as [
      string,
      number,
      string,
      string,
      number,
      StartFrom,
      GroupSettings,
      number,
    ];
    const id = { topic, partition };
    this.checkLeader(id);
    const replica = this.replica(id, await this.topicOptions(topic));
    await this.ensureLed(replica);
    const state = replica.group(group, from, settings, `${this.instanceId}${this.deps.view.tableVersion}`);
    const deadline = Date.now() + Math.min(waitMs, 5000);
    for (;;) {
      this.collectDeadLetters(replica, group);
      state.setEndOffset(replica.log.endOffset);
      const deliveries = max > 0 ? state.take(Math.min(max, 1000), member) : [];
      if (deliveries.length > 0 || Date.now() >= deadline || this.closed) {
        const out = deliveries.map((d) => {
          const [record] = replica.log.read(d.offset, { maxMessages: 1 });
          return { deliveryId: d.deliveryId, offset: d.offset, deliveries: d.deliveries, record: record as LogRecord };
        });
        if (deliveries.length > 0) this.syncGroup(replica, group, state.snapshot());
        return { deliveries: out, paused: state.pausedReason() ?? null };
      }
      const due = state.nextDueAt();
      await replica.waitForChange(
        Math.max(1, Math.min(deadline - Date.now(), due === undefined ? 1000 : due - this.deps.clock.now())),
      );
    }
  }

  private serveAck(body: unknown): { errors: string[] } {
    if (!Array.isArray(body) || body.length < 5 || body.length > 7) {
      throw new ShoalError(
        'SHOAL_PROTOCOL_INVALID',
        'an ack is [topic, partition, group, acks, nacks, extends?, seek?]',
      );
    }
    const [topic, partition, group, acks, nacks, extendsList, seek] = body as [
      string,
      number,
      string,
      string[],
      [string, number | null, string | null][],
      [string, number][] | undefined,
      number | { timestamp: number } | undefined,
    ];
    const id = { topic, partition };
    this.checkLeader(id);
    const replica = this.replicas.get(key(id));
    const state = replica?.groups.get(group);
    if (replica === undefined || state === undefined) {
      throw new ShoalError(
        'SHOAL_LOG_UNKNOWN_DELIVERY',
        `no deliveries of group ${group} on ${topic}/${partition} here (the leader changed)`,
      );
    }
    const errors: string[] = [];
    for (const d of acks) {
      try {
        state.ack(d);
      } catch (err) {
        errors.push(isShoalError(err) ? err.code : String(err));
      }
    }
    for (const [d, delay, reason] of nacks) {
      try {
        state.nack(d, delay ?? undefined, reason ?? undefined);
      } catch (err) {
        errors.push(isShoalError(err) ? err.code : String(err));
      }
    }
    for (const [d, ms] of extendsList ?? []) {
      try {
        state.extend(d, ms);
      } catch (err) {
        errors.push(isShoalError(err) ? err.code : String(err));
      }
    }
    if (seek !== undefined && seek !== null) {
      const offset = typeof seek === 'number' ? seek : replica.log.offsetForTimestamp(seek.timestamp);
      state.seek(Math.min(Math.max(offset, replica.log.startOffset), replica.log.endOffset));
    }
    this.collectDeadLetters(replica, group);
    this.syncGroup(replica, group, state.snapshot());
    replica.notify();
    return { errors };
  }

  /** Appends the group's dead letters to `<topic>.dlq`, then lets the commit pass them. */
  private collectDeadLetters(replica: PartitionReplica, group: string): void {
    const state = replica.groups.get(group);
    if (state === undefined) return;
    for (const dead of state.tick()) {
      const [record] = replica.log.read(dead.offset, { maxMessages: 1 });
      const headers: Record<string, string> = {
        ...(record?.headers ?? {}),
        'x-shoal-dlq-reason': dead.reason,
        'x-shoal-dlq-group': group,
        'x-shoal-dlq-source': `${replica.id.topic}/${replica.id.partition}/${dead.offset}`,
        'x-shoal-dlq-deliveries': String(dead.deliveries),
      };
      if (dead.lastError !== undefined) headers['x-shoal-dlq-error'] = dead.lastError;
      this.append(`${replica.id.topic}.dlq`, record?.value ?? null, {
        id: `${replica.id.topic}/${replica.id.partition}/${group}/${dead.offset}`,
        headers,
        ...(record?.key === undefined ? {} : { key: record.key }),
      }).then(
        () => state.confirmDeadLetter(dead.offset),
        (err: unknown) =>
          this.deps.onWarning('dead letter not appended yet; it will be retried', { message: String(err) }),
      );
    }
  }

  private syncGroup(replica: PartitionReplica, group: string, snapshot: unknown): void {
    replica.groupSnapshots.set(group, snapshot);
    const settings = replica.groupSettings.get(group);
    for (const f of this.ownersOf(replica.id)) {
      if (f === this.deps.view.selfId) continue;
      const address = this.deps.view.addressOf(f);
      if (address !== undefined) {
        this.deps.transport.send(address, MessageKind.LogGroupSync, [
          replica.id.topic,
          replica.id.partition,
          group,
          snapshot,
          settings,
          replica.topic,
        ]);
      }
    }
  }

  private storeGroupSnapshot(body: unknown): void {
    if (!Array.isArray(body) || body.length !== 6)
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a group sync is 6 fields');
    const [topic, partition, group, snapshot, settings, options] = body as [
      string,
      number,
      string,
      unknown,
      GroupSettings | undefined,
      ResolvedTopicOptions,
    ];
    const replica = this.replica({ topic, partition }, options);
    replica.groupSnapshots.set(group, snapshot);
    if (settings !== undefined) replica.groupSettings.set(group, settings);
  }

  /** Lag of `group` on every partition of `topic`, as each partition's leader sees it. */
  async lag(topic: string, group: string): Promise<PartitionLag[]> {
    const t = await this.topicOptions(topic);
    return Promise.all(
      Array.from({ length: t.partitions }, async (_, partition) => {
        const [, end, s] = (await this.routed({ topic, partition }, MessageKind.LogEnd, [topic, partition, group])) as [
          number,
          number,
          ReturnType<GroupPartitionState['stats']> | null,
        ];
        return {
          partition,
          endOffset: end,
          committedOffset: s?.committedOffset ?? 0,
          lag: s === null ? end : Math.max(0, end - s.committedOffset),
          unacked: s?.unacked ?? 0,
          oldestUnackedAgeMs: s?.oldestUnackedAgeMs ?? 0,
          redeliveries: s?.redeliveries ?? 0,
          deadLetters: s?.deadLetters ?? 0,
          paused: s?.paused ?? false,
        };
      }),
    );
  }

  /** Partitions this node leads, with their end offsets and the groups' state (metrics). */
  leaderSnapshot(): {
    topic: string;
    partition: number;
    startOffset: number;
    endOffset: number;
    groups: { group: string; lag: number; unacked: number; redeliveries: number; deadLetters: number }[];
  }[] {
    const out = [];
    for (const replica of this.replicas.values()) {
      if (this.leaderOf(replica.id) !== this.deps.view.selfId) continue;
      const groups = [...replica.groups].map(([group, state]) => {
        state.setEndOffset(replica.log.endOffset);
        const s = state.stats();
        return { group, lag: s.lag, unacked: s.unacked, redeliveries: s.redeliveries, deadLetters: s.deadLetters };
      });
      out.push({ ...replica.id, startOffset: replica.log.startOffset, endOffset: replica.log.endOffset, groups });
    }
    return out;
  }

  /** Stops consumers and closes every partition log. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transactions.close();
    clearInterval(this.retention);
    await Promise.all([...this.consumers].map((c) => c.close()));
    await Promise.all([...this.replicas.values()].map((r) => r.close()));
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** Group settings used when a caller gives none. */
export function defaultSettings(): GroupSettings {
  return { ackTimeoutMs: 30_000, maxDeliveries: 5, maxUnacked: 1000 };
}
