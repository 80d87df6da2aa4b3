/**
 * The single-key cache operations that travel on the wire (between nodes and
 * from clients), by name. Only names listed here are executed for a remote
 * caller; `write` marks operations that change their key: a node replicates
 * their effect, and near caches (embedded or in the client) drop the key
 * around them.
 */

/** How an operation touches its key. */
export interface CacheOpSpec {
  /** Changes the key (replicated to every owner). */
  readonly write: boolean;
}

/** Every single-key operation of `node.cache`, by name. The first argument is always the key. */
export const CACHE_OPS = {
  get: { write: false },
  has: { write: false },
  ttl: { write: false },
  type: { write: false },
  hget: { write: false },
  hgetall: { write: false },
  hlen: { write: false },
  lrange: { write: false },
  llen: { write: false },
  set: { write: true },
  delete: { write: true },
  expire: { write: true },
  persist: { write: true },
  incr: { write: true },
  decr: { write: true },
  hset: { write: true },
  hdel: { write: true },
  lpush: { write: true },
  rpush: { write: true },
  lpop: { write: true },
  rpop: { write: true },
} as const satisfies Record<string, CacheOpSpec>;

/** Name of a single-key cache operation. */
export type CacheOpName = keyof typeof CACHE_OPS;

/** True when `name` is a known operation (wire input is checked with this). */
export function isCacheOp(name: unknown): name is CacheOpName {
  return typeof name === 'string' && Object.hasOwn(CACHE_OPS, name);
}
