/**
 * Moves partitions when the table changes. A node that gains a copy of a
 * partition marks it syncing and pulls it, page by page (one page in flight
 * per source: backpressure), from the owners it had before; while syncing,
 * operations on its keys first fetch the key from those owners (Replicator),
 * so the old owners stay the source of truth until the copy is complete. When
 * done it tells the old owners (MigrateDone), and an old owner drops a
 * partition only once every node that gained it has said so. A table change
 * during a pass aborts it and starts a new one from the new table, keeping the
 * union of previous owners as sources for partitions still syncing.
 */
import { MessageKind, ShoalError } from '@shoal/protocol';
import type { PeerTransport } from '../transport/peer-transport.js';
import { hotFirstPage } from '../warmup/hot-first.js';
import type { ClusterView } from './cluster-view.js';
import { isRecord, type ReplicaRecord, type ReplicaStore } from './replica-store.js';

/** MigratePull body: [partitions, cursor, maxItems]. Reply: { items, cursor }. */
export type MigratePullBody = [partitions: number[], cursor: number, maxItems: number];

/** Settings of the rebalancer. */
export interface RebalancerOptions {
  /** Records per migration page. */
  pageSize: number;
  /** Timeout of one page request, in ms. */
  pageTimeoutMs: number;
  /**
   * How long a node that lost partitions waits for their gainers to pull them
   * (and say so) before it pushes them itself, in ms. Default 1500.
   */
  handoffGraceMs?: number;
  /** Called when a pass starts and ends (cluster events rebalance-start / rebalance-end). */
  onPass?: (event: 'start' | 'end', detail: { tableVersion: number; partitions: number }) => void;
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/** Owners of every partition, primary first. */
export type OwnerTable = readonly (readonly string[])[];

/** Streams partitions to their new owners and lets old owners let go. */
export class Rebalancer {
  /** partition -> nodes to pull it from, while this node is still receiving it. */
  private readonly syncing = new Map<number, Set<string>>();
  /** partition -> nodes that gained it and have not yet confirmed; this node dropped it from its table. */
  private readonly handoffs = new Map<number, Set<string>>();
  /** Confirmations that arrived before this node's own table change registered the handoff. */
  private readonly earlyConfirmations = new Map<number, Set<string>>();
  private pass = 0; // increments on every table change; a running pass stops when it is stale
  /** Until when the current table's losers wait for gainers to pull before pushing. */
  private handoffGraceEnd = 0;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: ReplicaStore,
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    private readonly options: RebalancerOptions,
  ) {
    transport.handle(MessageKind.MigratePull, (body) => this.servePull(body));
    transport.handle(MessageKind.MigrateDone, (body, from) => this.handoffDone(body, from.remoteId));
  }

  /** True while this node is still receiving `partition`. */
  isSyncing(partition: number): boolean {
    return this.syncing.has(partition);
  }

  /** Nodes to read a syncing partition's keys from. */
  sourcesOf(partition: number): readonly string[] {
    return [...(this.syncing.get(partition) ?? [])];
  }

  /** Partitions still being received, and partitions waiting for their new owners. */
  status(): { syncing: number; handingOff: number; running: boolean } {
    return { syncing: this.syncing.size, handingOff: this.handoffs.size, running: this.syncing.size > 0 };
  }

  /** Resolves once no partition is syncing or waiting for a handoff (or the timeout passes). */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.syncing.size > 0 || this.handoffs.size > 0) {
      if (Date.now() >= deadline || this.closed) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /**
   * The table changed from `previous` to `next`. Starts a pass that pulls every
   * partition this node gained; records the handoffs it owes.
   */
  tableChanged(previous: OwnerTable, next: OwnerTable, tableVersion: number): void {
    const self = this.view.selfId;
    for (let p = 0; p < next.length; p++) {
      const before = previous[p] ?? [];
      const after = next[p] ?? [];
      const had = before.includes(self);
      const has = after.includes(self);
      if (has && !had) {
        const sources = this.syncing.get(p) ?? new Set<string>();
        for (const id of before) sources.add(id);
        if (sources.size > 0) this.syncing.set(p, sources);
      } else if (has && this.syncing.has(p)) {
        for (const id of before) if (id !== self) this.syncing.get(p)?.add(id);
      } else if (!has) {
        this.syncing.delete(p);
      }
      if (had && !has) {
        const gainers = new Set(after.filter((id) => !before.includes(id)));
        const pending = this.handoffs.get(p) ?? new Set<string>();
        const early = this.earlyConfirmations.get(p);
        for (const id of gainers) if (!early?.has(id)) pending.add(id);
        this.earlyConfirmations.delete(p);
        this.handoffs.set(p, pending);
      } else if (has) {
        this.handoffs.delete(p);
        this.earlyConfirmations.delete(p);
      }
    }
    for (const [p, pending] of this.handoffs) {
      // a gainer that is no longer an owner (it died or the table moved on) owes no confirmation
      for (const id of pending) if (!(next[p] ?? []).includes(id)) pending.delete(id);
    }
    this.dropConfirmedHandoffs();
    // once per table change: a retry pass after a failure does not wait again
    this.handoffGraceEnd = Date.now() + (this.options.handoffGraceMs ?? 1500);
    const pass = ++this.pass;
    this.running = this.running.then(() => this.runPass(pass, tableVersion));
  }

  /** Stops pulling; pending work is abandoned. */
  close(): void {
    this.closed = true;
  }

  /** True once `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private async runPass(pass: number, tableVersion: number): Promise<void> {
    if (pass !== this.pass || this.closed) return;
    const pulling = this.syncing.size;
    const pushing = this.handoffs.size;
    if (pulling === 0 && pushing === 0) return;
    this.options.onPass?.('start', { tableVersion, partitions: pulling + pushing });
    await Promise.all([this.pullGained(pass), this.pushLost(pass)]);
    if (pass !== this.pass || this.closed) return;
    this.options.onPass?.('end', {
      tableVersion,
      partitions: pulling + pushing - this.syncing.size - this.handoffs.size,
    });
    if ((this.syncing.size > 0 || this.handoffs.size > 0) && !this.closed) {
      // a source or gainer failed: try again shortly with whoever remains
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (pass === this.pass) this.running = this.running.then(() => this.runPass(pass, tableVersion));
    }
  }

  /** Pulls every syncing partition from its previous owners; marks the complete ones ready and says so. */
  private async pullGained(pass: number): Promise<void> {
    if (this.syncing.size === 0) return;
    // group partitions by source so each source is scanned once per pass
    const bySource = new Map<string, number[]>();
    for (const [p, sources] of this.syncing) {
      for (const id of sources) {
        if (id === this.view.selfId) continue;
        const list = bySource.get(id) ?? [];
        list.push(p);
        bySource.set(id, list);
      }
    }
    const completed = new Map<number, number>(); // partition -> sources that delivered it fully
    await Promise.all(
      [...bySource].map(async ([source, list]) => {
        const ok = await this.pullFrom(source, list, pass);
        if (ok) for (const p of list) completed.set(p, (completed.get(p) ?? 0) + 1);
      }),
    );
    if (pass !== this.pass || this.closed) return;
    const done: number[] = [];
    for (const [p, sources] of this.syncing) {
      const reachable = [...sources].filter((id) => id !== this.view.selfId && this.view.addressOf(id) !== undefined);
      // complete when every reachable previous owner delivered it (or none is left to ask)
      if ((completed.get(p) ?? 0) >= reachable.length || reachable.length === 0) done.push(p);
    }
    for (const p of done) this.syncing.delete(p);
    this.confirm(done);
  }

  /**
   * Pushes every partition this node lost to the nodes that gained it, so its
   * copies reach the new owners even when they would not pull them (two
   * clusters merging after a split); a gainer that acknowledged everything is
   * done, and the partition is dropped here once all its gainers are.
   *
   * First it gives the gainers `handoffGraceMs` to pull: in a plain join or
   * leave they pull from every previous owner anyway, and pushing at the same
   * time sent each lost copy twice more to a node that was already the
   * busiest in the cluster (a joining node received every moved key 3-4 times
   * with 2 copies per key). Only gainers that have not confirmed by then get
   * the push.
   */
  private async pushLost(pass: number): Promise<void> {
    while (this.handoffs.size > 0 && Date.now() < this.handoffGraceEnd) {
      if (pass !== this.pass || this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const byGainer = new Map<string, number[]>();
    for (const [p, gainers] of this.handoffs) {
      for (const id of gainers) {
        const list = byGainer.get(id) ?? [];
        list.push(p);
        byGainer.set(id, list);
      }
    }
    await Promise.all(
      [...byGainer].map(async ([gainer, partitions]) => {
        const address = this.view.addressOf(gainer);
        if (address === undefined) return;
        const set = new Set(partitions);
        let cursor = 0;
        try {
          do {
            if (pass !== this.pass || this.closed) return;
            // hottest keys first: the gainer serves reads of these partitions as they arrive
            const page = await hotFirstPage(this.store, this.view.partitionOf, set, cursor, this.options.pageSize);
            if (page.items.length > 0) {
              await this.transport.request(
                address,
                MessageKind.Replicate,
                [-1, page.items],
                this.options.pageTimeoutMs,
              );
            }
            cursor = page.cursor;
          } while (cursor !== 0);
        } catch (err) {
          this.options.onWarning?.('handoff push failed', { gainer, message: (err as Error).message });
          return;
        }
        for (const p of partitions) this.handoffs.get(p)?.delete(gainer);
      }),
    );
    this.dropConfirmedHandoffs();
  }

  /** Pulls `partitions` from `source` until done; false if the source failed or the pass went stale. */
  private async pullFrom(source: string, partitions: number[], pass: number): Promise<boolean> {
    const address = this.view.addressOf(source);
    if (address === undefined) return false;
    let cursor = 0;
    try {
      do {
        if (pass !== this.pass || this.closed) return false;
        const body: MigratePullBody = [partitions, cursor, this.options.pageSize];
        const page = (await this.transport.request(
          address,
          MessageKind.MigratePull,
          body,
          this.options.pageTimeoutMs,
        )) as {
          items: [string, ReplicaRecord][];
          cursor: number;
        };
        for (const [key, record] of page.items) if (isRecord(record)) this.store.apply(key, record);
        cursor = page.cursor;
      } while (cursor !== 0);
      return true;
    } catch (err) {
      this.options.onWarning?.('migration pull failed', { source, message: (err as Error).message });
      return false;
    }
  }

  /** Tells the previous owners of `partitions` that this node now holds them. */
  private confirm(partitions: number[]): void {
    if (partitions.length === 0) return;
    const byOwner = new Map<string, number[]>();
    for (const p of partitions) {
      for (const id of this.view.previousOwnersOf(p)) {
        if (id === this.view.selfId) continue;
        const list = byOwner.get(id) ?? [];
        list.push(p);
        byOwner.set(id, list);
      }
    }
    for (const [id, list] of byOwner) {
      const address = this.view.addressOf(id);
      if (address !== undefined) this.transport.send(address, MessageKind.MigrateDone, list);
    }
  }

  private servePull(body: unknown): Promise<{ items: [string, ReplicaRecord][]; cursor: number }> {
    if (
      !Array.isArray(body) ||
      body.length !== 3 ||
      !Array.isArray(body[0]) ||
      !body[0].every((p) => Number.isInteger(p)) ||
      !Number.isSafeInteger(body[1]) ||
      !Number.isSafeInteger(body[2])
    ) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a migrate pull is [partitions, cursor, maxItems]');
    }
    const [partitions, cursor, maxItems] = body as MigratePullBody;
    const max = Math.min(Math.max(1, maxItems), 10_000);
    return hotFirstPage(this.store, this.view.partitionOf, new Set(partitions), cursor, max);
  }

  private handoffDone(body: unknown, from: string): void {
    if (!Array.isArray(body)) throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'migrate done is a list of partitions');
    for (const p of body as number[]) {
      const pending = this.handoffs.get(p);
      if (pending !== undefined) pending.delete(from);
      else {
        // the gainer finished before this node saw the table change: remember it for then
        const early = this.earlyConfirmations.get(p) ?? new Set<string>();
        early.add(from);
        this.earlyConfirmations.set(p, early);
      }
    }
    this.dropConfirmedHandoffs();
  }

  private dropConfirmedHandoffs(): void {
    const drop = new Set<number>();
    for (const [p, pending] of this.handoffs) {
      if (pending.size === 0) {
        drop.add(p);
        this.handoffs.delete(p);
      }
    }
    if (drop.size === 0) return;
    const self = this.view.selfId;
    // drop only what this node still does not own in the table in force now
    this.store.dropPartitions((p) => !drop.has(p) || this.view.ownersOf(p).includes(self));
  }
}
