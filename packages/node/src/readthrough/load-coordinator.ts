/**
 * Cluster-wide single flight for `getOrSet`, run at the key's primary. The
 * first caller anywhere that finds the key missing (or stale) gets a lease and
 * runs its loader; every other caller waits here for the lease holder's result
 * (or, when a stale value is within its grace period, gets that at once). The
 * holder reports back with LoadDone; the primary writes the value (replicated
 * like any write) and answers the waiters. A lease that is not reported within
 * its time (the holder died) is handed to the next caller. So one loader runs
 * per key at a time across the cluster, not one per process.
 */
import { type LoadOutcome, type LoadReply, ManagedValue, MessageKind, ShoalError } from '@shoal/protocol';
import type { ClusterView } from '../replication/cluster-view.js';
import type { Replicator } from '../replication/replicator.js';
import type { LocalCache } from '../store/local-cache.js';
import type { TagRegistry } from '../tags/tag-registry.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { freshnessOf } from './freshness.js';

export type { LoadOutcome, LoadReply } from '@shoal/protocol';

/** Load body: [key, leaseMs, waitMs]. */
export type LoadBody = [key: string, leaseMs: number, waitMs: number];

/** LoadDone body: [key, token, outcome, value | message, ttlMs, graceMs, tags]. */
export type LoadDoneBody = [
  key: string,
  token: number,
  outcome: LoadOutcome,
  payload: unknown,
  ttlMs: number,
  graceMs: number,
  tags: string[],
];

interface Flight {
  token: number;
  leaseUntil: number;
  waiters: Set<(reply: LoadReply) => void>;
  partition: number;
}

/** Runs the single flights of the keys this node is primary for. */
export class LoadCoordinator {
  private readonly flights = new Map<string, Flight>();
  private nextToken = 1;
  private leasesGranted = 0;

  constructor(
    private readonly view: ClusterView,
    private readonly cache: LocalCache,
    private readonly replicator: Replicator,
    private readonly tags: TagRegistry,
    transport: PeerTransport,
    private readonly now: () => number,
    /** The invalidation stream's (epoch, seq) of a partition this node leads, read with the value. */
    private readonly position: (partition: number) => [epoch: number, seq: number],
  ) {
    transport.handle(MessageKind.Load, (body) => this.load(body));
    transport.handle(MessageKind.LoadDone, (body) => this.done(body));
  }

  /** Leases handed out so far (one per loader call the cluster made for keys owned here). */
  get leases(): number {
    return this.leasesGranted;
  }

  /** A Load request (from this node or another). */
  async load(body: unknown): Promise<LoadReply> {
    if (!Array.isArray(body) || body.length !== 3 || typeof body[0] !== 'string' || !(body[1] > 0) || !(body[2] >= 0)) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a load is [key, leaseMs, waitMs]');
    }
    const [key, leaseMs, waitMs] = body as LoadBody;
    const partition = this.primaryPartition(key);
    const stored = await this.replicator.execute('get', [key]);
    const freshness = stored === undefined ? 'gone' : freshnessOf(stored, this.tags, this.now());
    if (freshness === 'fresh') {
      const [epoch, seq] = this.position(partition);
      const ttl = this.cache.ttl(key);
      return ['fresh', stored, ttl >= 0 ? this.now() + ttl : 0, epoch, seq, this.view.selfId];
    }
    const stale = freshness === 'stale' ? stored : undefined;
    let flight = this.flights.get(key);
    if (flight !== undefined && flight.leaseUntil < this.now()) {
      this.finish(key, flight, ['busy']); // the holder went quiet: its waiters ask again, one of them gets the lease
      flight = undefined;
    }
    if (flight === undefined) {
      const token = this.nextToken++;
      this.flights.set(key, { token, leaseUntil: this.now() + leaseMs, waiters: new Set(), partition });
      this.leasesGranted++;
      return ['lease', stale ?? null, token];
    }
    if (stale !== undefined) return ['stale', stale];
    const waiting = flight;
    return new Promise<LoadReply>((resolve) => {
      const timer = setTimeout(
        () => {
          waiting.waiters.delete(settle);
          resolve(['busy']);
        },
        Math.min(waitMs, Math.max(1, waiting.leaseUntil - this.now())),
      );
      const settle = (reply: LoadReply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      waiting.waiters.add(settle);
    });
  }

  /** The lease holder's report: write the value (if any) and answer the waiters. */
  async done(body: unknown): Promise<boolean> {
    if (
      !Array.isArray(body) ||
      body.length !== 7 ||
      typeof body[0] !== 'string' ||
      typeof body[1] !== 'number' ||
      !['value', 'none', 'error'].includes(body[2]) ||
      typeof body[4] !== 'number' ||
      typeof body[5] !== 'number' ||
      !Array.isArray(body[6])
    ) {
      throw new ShoalError(
        'SHOAL_PROTOCOL_INVALID',
        'a load report is [key, token, outcome, payload, ttl, grace, tags]',
      );
    }
    const [key, token, outcome, payload, ttlMs, graceMs, tags] = body as LoadDoneBody;
    this.primaryPartition(key);
    const flight = this.flights.get(key);
    const mine = flight !== undefined && flight.token === token;
    if (outcome === 'error') {
      if (mine) this.finish(key, flight, ['failed', String(payload)]);
      return false;
    }
    let stored: unknown;
    if (outcome === 'value') {
      const now = this.now();
      stored = new ManagedValue(payload, this.cache.nextVersion(), ttlMs > 0 ? now + ttlMs : 0, graceMs, tags);
      const setOptions = ttlMs > 0 ? { ttl: ttlMs + graceMs } : {};
      // written even when the lease expired meanwhile: the value is the newest the loader saw, and last writer wins
      await this.replicator.execute('set', [key, stored, setOptions]);
    }
    const current = this.flights.get(key);
    if (current !== undefined && current.token === token) {
      this.finish(key, current, outcome === 'value' ? ['fresh', stored] : ['none']);
    }
    return true;
  }

  /** Releases the waiters of flights for partitions this node no longer leads (they ask the new primary). */
  tableChanged(): void {
    for (const [key, flight] of this.flights) {
      if (this.view.ownersOf(flight.partition)[0] !== this.view.selfId) this.finish(key, flight, ['busy']);
    }
  }

  private finish(key: string, flight: Flight, reply: LoadReply): void {
    this.flights.delete(key);
    for (const waiter of flight.waiters) waiter(reply);
    flight.waiters.clear();
  }

  private primaryPartition(key: string): number {
    const partition = this.view.partitionOf(key);
    if (this.view.ownersOf(partition)[0] !== this.view.selfId) {
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', `not the primary of partition ${partition}`, {
        partition,
        tableVersion: this.view.tableVersion,
      });
    }
    return partition;
  }
}
