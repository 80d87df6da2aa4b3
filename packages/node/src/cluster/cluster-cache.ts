/**
 * `node.cache`: every LocalCache operation, async, for the whole cluster. Each
 * call finds its key's partition and primary in the current table and runs
 * there (locally, or as one message batched with everything else this tick
 * sends to that node). Topology changes are absorbed here: a retryable failure
 * (owner moved, node unreachable, not enough replicas yet) is retried against
 * the newest table until the call's timeout, then reported as a typed error.
 */
import { type CacheApi, isShoalError, MessageKind, ShoalError } from '@shoal/protocol';
import { CACHE_OPS, type CacheOpName, type Consistency, isCacheOp } from '../replication/cache-ops.js';
import type { ClusterView } from '../replication/cluster-view.js';
import type { Replicator } from '../replication/replicator.js';
import type { EntryKind, ScanOptions, ScanResult, SetOptions } from '../store/local-cache.js';
import { validateKey } from '../store/validation.js';
import { sizeOfValue } from '../store/value-size.js';
import type { PeerTransport } from '../transport/peer-transport.js';

/** Per-call options of cluster operations. */
export interface CallOptions {
  /** Owners that must take part (default: the node's readConsistency / writeConsistency). */
  consistency?: Consistency;
}

/** CacheOp body: [op, args, consistency | null, tableVersion, hops]. */
type CacheOpBody = [
  op: CacheOpName,
  args: unknown[],
  consistency: Consistency | null,
  tableVersion: number,
  hops: number,
];

/** Settings of the routing layer. */
export interface ClusterCacheOptions {
  /** Whole-call budget including retries, in ms. */
  requestTimeoutMs: number;
  /** Most forwards between nodes that disagree about the table. */
  maxHops: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Writes are refused while fewer members are alive (0 = off). */
  minClusterSize: number;
}

const RETRYABLE = new Set([
  'SHOAL_TRANSPORT_UNAVAILABLE',
  'SHOAL_TRANSPORT_TIMEOUT',
  'SHOAL_TRANSPORT_CLOSED',
  'SHOAL_CLUSTER_NOT_OWNER',
  'SHOAL_REPLICATION_QUORUM',
  'SHOAL_TRANSPORT_BACKPRESSURE',
]);

// a node's local scan cursor stays below 2^31 (slot indexes), so node index * 2^32 + cursor is exact
const NODE_CURSOR_SPAN = 2 ** 32;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The cluster-wide, async cache API of an embedded node. */
export class ClusterCache implements CacheApi {
  private closed = false;

  constructor(
    private readonly view: ClusterView,
    private readonly transport: PeerTransport,
    private readonly replicator: Replicator,
    private readonly options: ClusterCacheOptions,
    private readonly scanLocal: (options: ScanOptions) => ScanResult,
    /** Alive members sorted by id, for cluster-wide scans. */
    private readonly members: () => readonly { id: string; address: string }[],
  ) {
    transport.handle(MessageKind.CacheOp, (body) => this.receive(body));
    transport.handle(MessageKind.Scan, (body) => this.scanOwned(body));
  }

  get(key: string, options?: CallOptions): Promise<unknown> {
    return this.run('get', [key], options);
  }
  set(key: string, value: unknown, options?: SetOptions & CallOptions): Promise<boolean> {
    this.checkValue(value);
    const { consistency, ...setOptions } = options ?? {};
    return this.run('set', [key, value, setOptions], { consistency }) as Promise<boolean>;
  }
  has(key: string, options?: CallOptions): Promise<boolean> {
    return this.run('has', [key], options) as Promise<boolean>;
  }
  delete(key: string, options?: CallOptions): Promise<boolean> {
    return this.run('delete', [key], options) as Promise<boolean>;
  }
  expire(key: string, ttl: number | string): Promise<boolean> {
    return this.run('expire', [key, ttl]) as Promise<boolean>;
  }
  persist(key: string): Promise<boolean> {
    return this.run('persist', [key]) as Promise<boolean>;
  }
  ttl(key: string): Promise<number> {
    return this.run('ttl', [key]) as Promise<number>;
  }
  type(key: string): Promise<EntryKind | undefined> {
    return this.run('type', [key]) as Promise<EntryKind | undefined>;
  }
  incr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return this.run('incr', [key, by], options) as Promise<number>;
  }
  decr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return this.run('decr', [key, by], options) as Promise<number>;
  }
  hset(key: string, fieldOrFields: string | Record<string, unknown>, value?: unknown): Promise<number> {
    if (typeof fieldOrFields === 'string') this.checkValue(value);
    else for (const v of Object.values(fieldOrFields ?? {})) this.checkValue(v);
    return this.run(
      'hset',
      typeof fieldOrFields === 'string' ? [key, fieldOrFields, value] : [key, fieldOrFields],
    ) as Promise<number>;
  }
  hget(key: string, field: string): Promise<unknown> {
    return this.run('hget', [key, field]);
  }
  hgetall(key: string): Promise<Record<string, unknown>> {
    return this.run('hgetall', [key]) as Promise<Record<string, unknown>>;
  }
  hlen(key: string): Promise<number> {
    return this.run('hlen', [key]) as Promise<number>;
  }
  hdel(key: string, ...fields: string[]): Promise<number> {
    return this.run('hdel', [key, ...fields]) as Promise<number>;
  }
  lpush(key: string, ...values: unknown[]): Promise<number> {
    for (const v of values) this.checkValue(v);
    return this.run('lpush', [key, ...values]) as Promise<number>;
  }
  rpush(key: string, ...values: unknown[]): Promise<number> {
    for (const v of values) this.checkValue(v);
    return this.run('rpush', [key, ...values]) as Promise<number>;
  }
  lpop(key: string): Promise<unknown> {
    return this.run('lpop', [key]);
  }
  rpop(key: string): Promise<unknown> {
    return this.run('rpop', [key]);
  }
  lrange(key: string, start: number, stop: number): Promise<unknown[]> {
    return this.run('lrange', [key, start, stop]) as Promise<unknown[]>;
  }
  llen(key: string): Promise<number> {
    return this.run('llen', [key]) as Promise<number>;
  }

  /** Values of many keys (undefined for missing ones, or ones holding a hash or list); one frame per owner. */
  async mget(keys: readonly string[], options?: CallOptions): Promise<unknown[]> {
    return Promise.all(
      keys.map((key) =>
        this.run('get', [key], options).catch((err: unknown) => {
          if (isShoalError(err, 'SHOAL_STORE_WRONG_TYPE')) return undefined;
          throw err;
        }),
      ),
    );
  }

  /** Sets many keys; every key and value is validated before the first write. Not atomic across partitions. */
  async mset(
    entries: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    options?: SetOptions & CallOptions,
  ): Promise<void> {
    const list: (readonly [string, unknown])[] =
      Symbol.iterator in Object(entries)
        ? [...(entries as Iterable<readonly [string, unknown]>)]
        : Object.entries(entries as Record<string, unknown>);
    for (const [key, value] of list) {
      validateKey(key, this.options.maxKeyBytes);
      this.checkValue(value);
    }
    await Promise.all(list.map(([key, value]) => this.set(key, value, options)));
  }

  /**
   * Pages through the keys of the whole cluster, node by node: each node lists
   * the keys it is primary for, so a stable key is returned once. The cursor
   * is opaque; 0 starts and 0 ends. Keys moved by a rebalance during a scan
   * may be missed or repeated, as with Redis Cluster.
   */
  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const cursor = options.cursor ?? 0;
    if (!Number.isSafeInteger(cursor) || cursor < 0) {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `scan cursor ${String(cursor)} is not a cursor scan returned`);
    }
    const nodes = this.members();
    let index = Math.floor(cursor / NODE_CURSOR_SPAN);
    let local = cursor % NODE_CURSOR_SPAN;
    const body = [local, options.match ?? null, options.prefix ?? null, options.count ?? 100];
    while (index < nodes.length) {
      const node = nodes[index] as { id: string; address: string };
      body[0] = local;
      const page = (
        node.id === this.view.selfId
          ? this.scanOwned(body)
          : await this.transport.request(node.address, MessageKind.Scan, body, this.options.requestTimeoutMs)
      ) as ScanResult;
      if (page.cursor !== 0) return { cursor: index * NODE_CURSOR_SPAN + page.cursor, keys: page.keys };
      if (page.keys.length > 0) {
        return { cursor: index + 1 < nodes.length ? (index + 1) * NODE_CURSOR_SPAN : 0, keys: page.keys };
      }
      index++;
      local = 0;
    }
    return { cursor: 0, keys: [] };
  }

  /** A page of the local store, keeping only keys this node is primary for. */
  private scanOwned(body: unknown): ScanResult {
    if (!Array.isArray(body) || body.length !== 4)
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'scan body is [cursor, match, prefix, count]');
    const [cursor, match, prefix, count] = body as [number, string | null, string | null, number];
    const options: ScanOptions = { cursor, count };
    if (match !== null) options.match = match;
    if (prefix !== null) options.prefix = prefix;
    const page = this.scanLocal(options);
    const keys = page.keys.filter((key) => this.view.ownersOf(this.view.partitionOf(key))[0] === this.view.selfId);
    return { cursor: page.cursor, keys };
  }

  /** Refuses further calls (the node is closing). */
  close(): void {
    this.closed = true;
  }

  private checkValue(value: unknown): void {
    sizeOfValue(value, this.options.maxValueBytes);
  }

  /** Runs one operation at its primary, retrying retryable failures until the timeout. */
  /** Told about every finished call (metrics): operation, whether it succeeded (or its error code), seconds. */
  onCall: ((op: string, result: string, seconds: number) => void) | undefined;

  private async run(op: CacheOpName, args: unknown[], options?: CallOptions): Promise<unknown> {
    const observe = this.onCall;
    if (observe === undefined) return this.runUntimed(op, args, options);
    const start = performance.now();
    try {
      const value = await this.runUntimed(op, args, options);
      observe(op, 'ok', (performance.now() - start) / 1000);
      return value;
    } catch (err) {
      observe(op, isShoalError(err) ? err.code : 'error', (performance.now() - start) / 1000);
      throw err;
    }
  }

  private async runUntimed(op: CacheOpName, args: unknown[], options?: CallOptions): Promise<unknown> {
    if (this.closed) throw new ShoalError('SHOAL_NODE_CLOSED', 'the node has been closed');
    const key = args[0];
    validateKey(key, this.options.maxKeyBytes);
    const min = this.options.minClusterSize;
    if (min > 0 && CACHE_OPS[op].write && this.view.aliveCount < min) {
      // refused here as well as at the primary: a node cut off from the majority must not write anywhere
      throw new ShoalError(
        'SHOAL_CLUSTER_TOO_SMALL',
        `this node sees ${this.view.aliveCount} alive members, fewer than minClusterSize ${min}`,
        { alive: this.view.aliveCount, minClusterSize: min },
      );
    }
    const consistency = options?.consistency ?? null;
    const deadline = Date.now() + this.options.requestTimeoutMs;
    let backoff = 10;
    let lastError: unknown;
    for (;;) {
      try {
        return await this.attempt(op, args, consistency, deadline - Date.now(), 0);
      } catch (err) {
        if (!isShoalError(err) || !RETRYABLE.has(err.code)) throw err;
        lastError = err;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new ShoalError(
          'SHOAL_REQUEST_TIMEOUT',
          `${op} ${JSON.stringify(key)} did not complete within ${this.options.requestTimeoutMs} ms: ${(lastError as Error).message}`,
          { op, key: key as string, lastCode: (lastError as ShoalError).code },
          { cause: lastError },
        );
      }
      await sleep(Math.min(backoff, left));
      backoff = Math.min(backoff * 2, 250);
    }
  }

  private attempt(
    op: CacheOpName,
    args: unknown[],
    consistency: Consistency | null,
    timeoutMs: number,
    hops: number,
  ): Promise<unknown> {
    const key = args[0] as string;
    const partition = this.view.partitionOf(key);
    const owners = this.view.ownersOf(partition);
    const primary = owners[0];
    if (primary === undefined)
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', 'no owner known for the partition', { partition });
    if (primary === this.view.selfId) return this.replicator.execute(op, args, consistency ?? undefined);
    const address = this.view.addressOf(primary);
    if (address === undefined) {
      throw new ShoalError(
        'SHOAL_TRANSPORT_UNAVAILABLE',
        `primary ${primary} of partition ${partition} has no address`,
        { partition },
      );
    }
    const body: CacheOpBody = [op, args, consistency, this.view.tableVersion, hops];
    return this.transport.request(address, MessageKind.CacheOp, body, Math.max(1, timeoutMs));
  }

  /** A CacheOp from another node: run it if this node is the primary, else forward (bounded hops). */
  private receive(body: unknown): Promise<unknown> {
    if (!Array.isArray(body) || body.length !== 5 || !isCacheOp(body[0]) || !Array.isArray(body[1])) {
      throw new ShoalError('SHOAL_PROTOCOL_INVALID', 'a cache op is [op, args, consistency, tableVersion, hops]');
    }
    const [op, args, consistency, , hops] = body as CacheOpBody;
    if (typeof args[0] !== 'string') throw new ShoalError('SHOAL_KEY_INVALID', 'key must be a string');
    if (consistency !== null && consistency !== 'one' && consistency !== 'quorum' && consistency !== 'all') {
      throw new ShoalError('SHOAL_ARGUMENT_INVALID', `consistency ${String(consistency)} is not one, quorum or all`);
    }
    const partition = this.view.partitionOf(args[0]);
    const owners = this.view.ownersOf(partition);
    if (owners[0] === this.view.selfId) return this.replicator.execute(op, args, consistency ?? undefined);
    if (typeof hops !== 'number' || hops >= this.options.maxHops) {
      throw new ShoalError('SHOAL_CLUSTER_NOT_OWNER', `not the primary of partition ${partition}`, {
        partition,
        owners: [...owners],
        tableVersion: this.view.tableVersion,
      });
    }
    return this.attempt(op, args, consistency, this.options.requestTimeoutMs, hops + 1);
  }
}
