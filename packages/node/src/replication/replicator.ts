/**
 * Executes cache operations at a partition's primary and keeps the other
 * owners in step. A write is applied locally (stamped with the hybrid clock),
 * then its resulting record is sent to every other owner at once; the call
 * returns when the write consistency's number of owners (the primary counts)
 * hold it. Reads at consistency `one` are served from the primary; at `quorum`
 * or `all` the newest copy among owners wins and stale owners are repaired.
 * A primary still receiving a partition after a topology change first pulls
 * the key from the previous owners, so no write builds on a stale copy.
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
import { compareVersions } from '../store/hybrid-clock.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { awaitQuorum } from './await-quorum.js';
import { CACHE_OPS, type CacheOpName, type Consistency, requiredAcks } from './cache-ops.js';
import type { ClusterView } from './cluster-view.js';
import { isRecord, type ReplicaRecord, type ReplicaStore } from './replica-store.js';

/** Replicate body: [partition, [[key, record], ...]]. Reply: number applied. */
export type ReplicateBody = [partition: number, items: [string, ReplicaRecord][]];
/** Digest/record fetch body: keys whose records are wanted. Reply: records (null when absent). */
export type RecordsBody = string[];

/** Settings of the replicator. */
export interface ReplicatorOptions {
  writeConsistency: Consistency;
  readConsistency: Consistency;
  /** How long one fan-out to replicas may take, in ms. */
  replicationTimeoutMs: number;
  /** Refuse writes while fewer members are alive (0 = off). */
  minClusterSize: number;
}

/** What `readLocal` returns when the read needs more than the local copy. */
export const NOT_LOCAL: unique symbol = Symbol('not local');

/** Runs operations at the primary and replicates their effect. */
export class Replicator {
  constructor(
    private readonly store: ReplicaStore,
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    private readonly options: ReplicatorOptions,
  ) {
    transport.handle(MessageKind.Replicate, (body) => this.applyReplicated(body));
    transport.handle(MessageKind.Records, (body) => this.records(body));
  }

  /**
   * Executes `op` on `key` here, as the primary of the key's partition.
   * `consistency` overrides the node's default for this call.
   */
  async execute(op: CacheOpName, args: unknown[], consistency?: Consistency): Promise<unknown> {
    const key = args[0] as string;
    const partition = this.view.partitionOf(key);
    const owners = this.view.ownersOf(partition);
    const write = CACHE_OPS[op].write;
    if (write && this.options.minClusterSize > 0 && this.view.aliveCount < this.options.minClusterSize) {
      throw new ShoalError(
        'SHOAL_CLUSTER_TOO_SMALL',
        `this node sees ${this.view.aliveCount} members, fewer than minClusterSize ${this.options.minClusterSize}`,
        { alive: this.view.aliveCount, minClusterSize: this.options.minClusterSize },
      );
    }
    const level = consistency ?? (write ? this.options.writeConsistency : this.options.readConsistency);
    if (this.view.isSyncing(partition)) await this.refresh(key, partition, this.view.syncSourcesOf(partition), 'one');
    if (!write) {
      if (level !== 'one' && owners.length > 1) await this.refresh(key, partition, owners, level);
      return this.invoke(op, args);
    }
    const before = this.store.cache.versionOf(key);
    const result = this.invoke(op, args);
    const after = this.store.cache.versionOf(key);
    const changed = before?.version !== after?.version;
    if (!changed) return result;
    const record = this.store.afterWrite(key, before !== undefined);
    if (record !== undefined) await this.fanOut(partition, key, record, owners, requiredAcks(level, owners.length));
    return result;
  }

  /**
   * `get` of `key` answered here and now, when `execute` would do nothing more
   * than read the local copy: this node is the primary, the partition is not
   * still arriving, and the node's read consistency needs no other owner.
   * Otherwise NOT_LOCAL (then `execute` does the full read).
   */
  readLocal(key: string): unknown {
    const partition = this.view.partitionOf(key);
    const owners = this.view.ownersOf(partition);
    if (owners[0] !== this.view.selfId || this.view.isSyncing(partition)) return NOT_LOCAL;
    if (this.options.readConsistency !== 'one' && owners.length > 1) return NOT_LOCAL;
    return this.store.cache.get(key);
  }

  private invoke(op: CacheOpName, args: unknown[]): unknown {
    const cache = this.store.cache as unknown as Record<string, (...a: unknown[]) => unknown>;
    return (cache[op] as (...a: unknown[]) => unknown).apply(this.store.cache, args);
  }

  /** Sends `record` to every other owner at once; resolves when `needed` owners (this one included) hold it. */
  private fanOut(
    partition: number,
    key: string,
    record: ReplicaRecord,
    owners: readonly string[],
    needed: number,
  ): Promise<void> {
    const others = owners.filter((id) => id !== this.view.selfId);
    return awaitQuorum(
      others,
      (id) => this.sendRecord(id, partition, key, record),
      owners.includes(this.view.selfId) ? 1 : 0,
      needed,
      `the write to ${JSON.stringify(key)}`,
      { key, partition },
    );
  }

  private async sendRecord(nodeId: string, partition: number, key: string, record: ReplicaRecord): Promise<void> {
    const address = this.view.addressOf(nodeId);
    if (address === undefined) {
      throw new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `owner ${nodeId} has no known address`, { nodeId });
    }
    const body: ReplicateBody = [partition, [[key, record]]];
    await this.transport.request(address, MessageKind.Replicate, body, this.options.replicationTimeoutMs);
  }

  /** Makes the local copy of `key` the newest among `sources` and repairs stale sources (read repair). */
  private async refresh(key: string, partition: number, sources: readonly string[], level: Consistency): Promise<void> {
    const others = sources.filter((id) => id !== this.view.selfId);
    if (others.length === 0) return;
    const results = await Promise.allSettled(
      others.map(async (id) => {
        const address = this.view.addressOf(id);
        if (address === undefined) throw new ShoalError('SHOAL_TRANSPORT_UNAVAILABLE', `no address for ${id}`);
        const [record] = (await this.transport.request(
          address,
          MessageKind.Records,
          [key],
          this.options.replicationTimeoutMs,
        )) as (ReplicaRecord | null)[];
        return { id, record: record ?? undefined };
      }),
    );
    const answered = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const needed = requiredAcks(level, sources.length) - (sources.includes(this.view.selfId) ? 1 : 0);
    if (level !== 'one' && answered.length < needed) {
      throw new ShoalError(
        'SHOAL_REPLICATION_QUORUM',
        `${answered.length + 1} of ${needed + 1} owners answered a read of ${JSON.stringify(key)}`,
        {
          key,
          partition,
        },
      );
    }
    for (const { record } of answered) if (record !== undefined && isRecord(record)) this.store.apply(key, record);
    const newest = this.store.record(key);
    if (newest === undefined) return;
    for (const { id, record } of answered) {
      const stale =
        record === undefined || compareVersions(record.version, record.origin, newest.version, newest.origin) < 0;
      if (stale && this.view.ownersOf(partition).includes(id))
        this.sendRecord(id, partition, key, newest).catch(() => {});
    }
  }

  private applyReplicated(body: unknown): number {
    if (!Array.isArray(body) || body.length !== 2 || !Array.isArray(body[1])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'replicate body is [partition, [[key, record], ...]]');
    }
    let applied = 0;
    let refused = 0;
    for (const item of body[1] as unknown[]) {
      if (!Array.isArray(item) || typeof item[0] !== 'string' || !isRecord(item[1])) {
        throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a replicated item is [key, record]');
      }
      // only owners take copies: a node whose table lags must not acknowledge (or keep) what it will not serve
      if (!this.view.ownersOf(this.view.partitionOf(item[0])).includes(this.view.selfId)) {
        refused++;
        continue;
      }
      if (this.store.apply(item[0], item[1])) applied++;
    }
    if (refused > 0) {
      throw new ShoalError(
        'SHOAL_CLUSTER_NOT_OWNER',
        `${refused} replicated records are for partitions this node does not own`,
        {
          refused,
          applied,
          tableVersion: this.view.tableVersion,
        },
      );
    }
    return applied;
  }

  private records(body: unknown): (ReplicaRecord | null)[] {
    if (!Array.isArray(body) || !body.every((k) => typeof k === 'string')) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a records request is a list of keys');
    }
    return (body as string[]).map((key) => this.store.record(key) ?? null);
  }
}
