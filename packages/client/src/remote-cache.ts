/**
 * `shoal.cache`: the embedded node's cache API (CacheApi) over the client
 * endpoint. Each call is one ClientCache message [op, args, consistency,
 * tableVersion] sent to the key's primary; the node runs it through its own
 * routing, so the result and the errors are exactly those of `node.cache`.
 * Every method also takes the client's per-call `timeout` and `signal`.
 */
import {
  CACHE_OPS,
  type CacheApi,
  type CallOptions,
  type EntryKind,
  type GetOrSetOptions,
  GetOrSetRunner,
  isCacheOp,
  isShoalError,
  type Loader,
  type LoadReply,
  MessageKind,
  type ResolvedGetOrSetOptions,
  resolveGetOrSetOptions,
  type ScanOptions,
  type ScanResult,
  type SetOptions,
  ShoalError,
} from '@shoal/protocol';
import type { RequestOptions, ShoalClient } from './shoal-client.js';

/** Options of `set` through the client: the store's, plus tags. */
export interface TaggedSetOptions extends SetOptions {
  tags?: string[];
}

/** Options of a client cache call: the embedded ones plus timeout and signal. */
export type CacheCallOptions = CallOptions & RequestOptions;

/** Options of a client read that may be served by a replica. */
export interface ReadOptions extends CacheCallOptions {
  /**
   * 'replica': any owner's copy will do, replicas first (spreads hot reads; may
   * miss the latest write, and ignores `consistency`). Default 'primary'.
   */
  read?: 'primary' | 'replica';
}

/** The cluster-wide cache, through the client. `V` types the stored values. */
export class RemoteCache<V = unknown> implements CacheApi<V> {
  private runner: GetOrSetRunner | undefined;

  constructor(private readonly client: ShoalClient<V>) {}

  private op(op: string, args: unknown[], options?: CacheCallOptions): Promise<unknown> {
    const key = args[0];
    if (typeof key !== 'string' || key.length === 0) {
      return Promise.reject(new ShoalError('SHOAL_KEY_INVALID', 'key must be a non-empty string'));
    }
    const body = [op, args, options?.consistency ?? null, this.client.tableId];
    const near = this.client.near;
    if (near === undefined || !isCacheOp(op) || !CACHE_OPS[op].write)
      return this.client.call(MessageKind.ClientCache, body, key, options);
    // dropped before and after: a near read that raced with this write keeps nothing older than it
    near.invalidate(key);
    return this.client.call(MessageKind.ClientCache, body, key, options).finally(() => near.invalidate(key));
  }

  get<T extends V = V>(key: string, options?: ReadOptions): Promise<T | undefined> {
    const near = this.client.near;
    if (near !== undefined && options?.read !== 'replica' && options?.consistency === undefined) {
      if (typeof key !== 'string' || key.length === 0) {
        return Promise.reject(new ShoalError('SHOAL_KEY_INVALID', 'key must be a non-empty string'));
      }
      const held = near.lookup(key);
      if (held !== undefined) return Promise.resolve(held as T);
      return near.read(key, () => this.client.call(MessageKind.ClientNearRead, [key], key, options)) as Promise<
        T | undefined
      >;
    }
    if (options?.read === 'replica') {
      if (typeof key !== 'string' || key.length === 0) {
        return Promise.reject(new ShoalError('SHOAL_KEY_INVALID', 'key must be a non-empty string'));
      }
      return this.client.call(MessageKind.ClientReplicaGet, [key], key, options, true) as Promise<T | undefined>;
    }
    return this.op('get', [key], options) as Promise<T | undefined>;
  }
  set(key: string, value: V, options?: TaggedSetOptions & CacheCallOptions): Promise<boolean> {
    if (options === undefined) return this.op('set', [key, value, null]) as Promise<boolean>;
    const { consistency, timeout, signal, ...setOptions } = options;
    return this.op('set', [key, value, setOptions], {
      consistency,
      timeout,
      signal,
    } as CacheCallOptions) as Promise<boolean>;
  }
  has(key: string, options?: CacheCallOptions): Promise<boolean> {
    return this.op('has', [key], options) as Promise<boolean>;
  }
  delete(key: string, options?: CacheCallOptions): Promise<boolean> {
    return this.op('delete', [key], options) as Promise<boolean>;
  }
  expire(key: string, ttl: number | string, options?: RequestOptions): Promise<boolean> {
    return this.op('expire', [key, ttl], options) as Promise<boolean>;
  }
  persist(key: string, options?: RequestOptions): Promise<boolean> {
    return this.op('persist', [key], options) as Promise<boolean>;
  }
  ttl(key: string, options?: RequestOptions): Promise<number> {
    return this.op('ttl', [key], options) as Promise<number>;
  }
  type(key: string, options?: RequestOptions): Promise<EntryKind | undefined> {
    return this.op('type', [key], options) as Promise<EntryKind | undefined>;
  }
  incr(key: string, by = 1, options?: CacheCallOptions): Promise<number> {
    return this.op('incr', [key, by], options) as Promise<number>;
  }
  decr(key: string, by = 1, options?: CacheCallOptions): Promise<number> {
    return this.op('decr', [key, by], options) as Promise<number>;
  }
  hset(key: string, fieldOrFields: string | Record<string, V>, value?: V): Promise<number> {
    const args = typeof fieldOrFields === 'string' ? [key, fieldOrFields, value] : [key, fieldOrFields];
    return this.op('hset', args) as Promise<number>;
  }
  hget<T extends V = V>(key: string, field: string, options?: RequestOptions): Promise<T | undefined> {
    return this.op('hget', [key, field], options) as Promise<T | undefined>;
  }
  hgetall<T extends V = V>(key: string, options?: RequestOptions): Promise<Record<string, T>> {
    return this.op('hgetall', [key], options) as Promise<Record<string, T>>;
  }
  hlen(key: string, options?: RequestOptions): Promise<number> {
    return this.op('hlen', [key], options) as Promise<number>;
  }
  hdel(key: string, ...fields: string[]): Promise<number> {
    return this.op('hdel', [key, ...fields]) as Promise<number>;
  }
  lpush(key: string, ...values: V[]): Promise<number> {
    return this.op('lpush', [key, ...values]) as Promise<number>;
  }
  rpush(key: string, ...values: V[]): Promise<number> {
    return this.op('rpush', [key, ...values]) as Promise<number>;
  }
  lpop<T extends V = V>(key: string, options?: RequestOptions): Promise<T | undefined> {
    return this.op('lpop', [key], options) as Promise<T | undefined>;
  }
  rpop<T extends V = V>(key: string, options?: RequestOptions): Promise<T | undefined> {
    return this.op('rpop', [key], options) as Promise<T | undefined>;
  }
  lrange<T extends V = V>(key: string, start: number, stop: number, options?: RequestOptions): Promise<T[]> {
    return this.op('lrange', [key, start, stop], options) as Promise<T[]>;
  }
  llen(key: string, options?: RequestOptions): Promise<number> {
    return this.op('llen', [key], options) as Promise<number>;
  }

  /** Values of many keys, in order; each key goes to its own primary, all in this tick's frames. */
  mget<T extends V = V>(keys: readonly string[], options?: ReadOptions): Promise<(T | undefined)[]> {
    return Promise.all(
      keys.map((key) =>
        this.get<T>(key, options).catch((err: unknown) => {
          if (isShoalError(err, 'SHOAL_STORE_WRONG_TYPE')) return undefined;
          throw err;
        }),
      ),
    );
  }

  /** Sets many keys (each at its primary). Not atomic across partitions. */
  async mset(
    entries: Record<string, V> | Iterable<readonly [string, V]>,
    options?: SetOptions & CacheCallOptions,
  ): Promise<void> {
    const list: (readonly [string, V])[] =
      Symbol.iterator in Object(entries)
        ? [...(entries as Iterable<readonly [string, V]>)]
        : Object.entries(entries as Record<string, V>);
    for (const [key] of list) {
      if (typeof key !== 'string' || key.length === 0)
        throw new ShoalError('SHOAL_KEY_INVALID', 'key must be a non-empty string');
    }
    await Promise.all(list.map(([key, value]) => this.set(key, value, options)));
  }

  /**
   * Read-through with cluster-wide single flight, as on an embedded node: the
   * key's primary hands one lease; only its holder runs `loader` (here or in
   * any other process), everyone else gets its result. See GetOrSetOptions.
   */
  getOrSet<T extends V = V>(
    key: string,
    loader: Loader<T>,
    options?: GetOrSetOptions & RequestOptions,
  ): Promise<T | undefined> {
    if (typeof key !== 'string' || key.length === 0) {
      return Promise.reject(new ShoalError('SHOAL_KEY_INVALID', 'key must be a non-empty string'));
    }
    if (typeof loader !== 'function') {
      return Promise.reject(new ShoalError('SHOAL_ARGUMENT_INVALID', 'getOrSet needs a loader function'));
    }
    let resolved: ResolvedGetOrSetOptions;
    try {
      resolved = resolveGetOrSetOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const call = options?.timeout === undefined && options?.signal === undefined ? undefined : options;
    this.runner ??= new GetOrSetRunner(
      {
        load: (k, leaseMs, waitMs) =>
          this.client.call(MessageKind.ClientLoad, [k, leaseMs, waitMs], k, {
            timeout: waitMs + (call?.timeout ?? this.client.options.timeoutMs),
          }) as Promise<LoadReply>,
        done: async (k, token, outcome, payload, o) => {
          const body = [k, token, outcome, outcome === 'none' ? null : payload, o.ttlMs, o.graceMs, o.tags];
          await this.client.call(MessageKind.ClientLoadDone, body, k);
          this.client.near?.invalidate(k);
        },
        checkValue: () => {}, // the node checks the value when the lease holder reports it
      },
      this.client.options.timeoutMs,
    );
    return this.runner.run(key, loader, resolved);
  }

  /** Loader calls this client made for getOrSet. */
  get loaderCalls(): number {
    return this.runner?.loaderCalls ?? 0;
  }

  /** Deletes every value tagged `tag`, on every node. */
  invalidateTag(tag: string, options?: RequestOptions): Promise<{ nodes: number }> {
    return this.client.call(MessageKind.ClientTagMark, [tag, 'delete'], undefined, options) as Promise<{
      nodes: number;
    }>;
  }

  /** Marks every value tagged `tag` stale (getOrSet refreshes it, serving it within grace meanwhile). */
  expireTag(tag: string, options?: RequestOptions): Promise<{ nodes: number }> {
    return this.client.call(MessageKind.ClientTagMark, [tag, 'expire'], undefined, options) as Promise<{
      nodes: number;
    }>;
  }

  /** Pages through the keys of the whole cluster (the node walks the members); cursor 0 starts and 0 ends. */
  scan(options: ScanOptions & RequestOptions = {}): Promise<ScanResult> {
    const body = [options.cursor ?? 0, options.match ?? null, options.prefix ?? null, options.count ?? 100];
    return this.client.call(MessageKind.ClientScan, body, undefined, options) as Promise<ScanResult>;
  }
}
