/**
 * Periodic repair of copies that diverged despite replication (a replica that
 * was paused, restarted, or missed a fan-out): for every co-owner, compare
 * per-partition digests of (key, version, writer); for each partition that
 * differs, pull the peer's records and push ours, both applied last-writer-wins,
 * so both sides end with the newest version of every key and every tombstone.
 * Also run at once, for one peer, when that peer rejoins.
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
import type { PeerTransport } from '../transport/peer-transport.js';
import type { ClusterView } from './cluster-view.js';
import type { ReplicaRecord, ReplicaStore } from './replica-store.js';
import { isRecord } from './replica-store.js';

/** Digest body: [partitions, digests]. Reply: the partitions whose digests differ. */
export type DigestBody = [partitions: number[], digests: number[]];

/** Settings of anti-entropy. */
export interface AntiEntropyOptions {
  /** Time between passes, in ms (0 = only on demand). */
  intervalMs: number;
  /** Records per page when repairing. */
  pageSize: number;
  timeoutMs: number;
  onRepair?: (detail: { peer: string; partitions: number }) => void;
}

/** Compares and repairs partition copies with co-owners. */
export class AntiEntropy {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  /** Partitions repaired since start (for stats and tests). */
  repairedPartitions = 0;

  constructor(
    private readonly store: ReplicaStore,
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    private readonly options: AntiEntropyOptions,
    private readonly ownedTable: () => readonly (readonly string[])[],
  ) {
    transport.handle(MessageKind.Digest, (body) => this.compare(body));
  }

  /** Starts the periodic passes. */
  start(): void {
    if (this.options.intervalMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.runOnce().catch(() => {});
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass with every co-owner (or only `peer`). Returns partitions repaired. */
  async runOnce(peer?: string): Promise<number> {
    if (this.running) {
      // a pass is under way: run a full one again after it, so no request is lost
      this.again = true;
      return 0;
    }
    this.running = true;
    try {
      const shared = this.sharedPartitions();
      if (peer !== undefined) for (const id of shared.keys()) if (id !== peer) shared.delete(id);
      // one read of the store for every co-owner, read again only after a repair changed it
      let digests: Map<number, number> | undefined;
      let repaired = 0;
      for (const [id, listed] of shared) {
        // the table may have moved on while earlier co-owners were compared: only what is still shared now
        const partitions = this.stillShared(id, listed);
        if (partitions.length === 0) continue;
        digests ??= await this.store.digests(new Set([...shared.values()].flat()));
        // a repair changes the store (so does a failed one, part way): the next co-owner needs fresh digests
        const fixed = await this.syncWith(id, partitions, digests).catch(() => -1);
        if (fixed !== 0) digests = undefined;
        repaired += Math.max(0, fixed);
      }
      this.repairedPartitions += repaired;
      return repaired;
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.runOnce().catch(() => {});
      }
    }
  }

  /** co-owner id -> partitions both this node and it own (skipping ones still syncing). */
  private sharedPartitions(): Map<string, number[]> {
    const self = this.view.selfId;
    const shared = new Map<string, number[]>();
    const table = this.ownedTable();
    for (let p = 0; p < table.length; p++) {
      const owners = table[p] ?? [];
      if (!owners.includes(self) || this.view.isSyncing(p)) continue;
      for (const id of owners) {
        if (id === self) continue;
        const list = shared.get(id) ?? [];
        list.push(p);
        shared.set(id, list);
      }
    }
    return shared;
  }

  /** The partitions of `listed` this node and `peer` both own in the table now (not syncing here). */
  private stillShared(peer: string, listed: readonly number[]): number[] {
    const table = this.ownedTable();
    const self = this.view.selfId;
    return listed.filter((p) => {
      const owners = table[p] ?? [];
      return owners.includes(self) && owners.includes(peer) && !this.view.isSyncing(p);
    });
  }

  private async syncWith(peer: string, partitions: number[], digests: Map<number, number>): Promise<number> {
    const address = this.view.addressOf(peer);
    if (address === undefined || partitions.length === 0) return 0;
    const body: DigestBody = [partitions, partitions.map((p) => digests.get(p) ?? 0)];
    const differing = (await this.transport.request(
      address,
      MessageKind.Digest,
      body,
      this.options.timeoutMs,
    )) as number[];
    if (!Array.isArray(differing) || differing.length === 0) return 0;
    const set = new Set(differing.filter((p) => partitions.includes(p)));
    // pull theirs
    let cursor = 0;
    do {
      const page = (await this.transport.request(
        address,
        MessageKind.MigratePull,
        [[...set], cursor, this.options.pageSize],
        this.options.timeoutMs,
      )) as { items: [string, ReplicaRecord][]; cursor: number };
      for (const [key, record] of page.items) if (isRecord(record)) this.store.apply(key, record);
      cursor = page.cursor;
    } while (cursor !== 0);
    // push ours
    cursor = 0;
    do {
      const page = this.store.scanPartitions(set, cursor, this.options.pageSize);
      if (page.items.length > 0) {
        await this.transport.request(address, MessageKind.Replicate, [-1, page.items], this.options.timeoutMs);
      }
      cursor = page.cursor;
    } while (cursor !== 0);
    this.options.onRepair?.({ peer, partitions: set.size });
    return set.size;
  }

  // checked before anything is awaited: a bad request is refused as it arrives
  private compare(body: unknown): Promise<number[]> {
    if (!Array.isArray(body) || body.length !== 2 || !Array.isArray(body[0]) || !Array.isArray(body[1])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a digest request is [partitions, digests]');
    }
    const [partitions, theirs] = body as DigestBody;
    if (partitions.length !== theirs.length || !partitions.every((p) => Number.isInteger(p))) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'digest lists differ in length');
    }
    return this.store
      .digests(new Set(partitions))
      .then((ours) => partitions.filter((p, i) => (ours.get(p) ?? 0) !== theirs[i]));
  }
}
