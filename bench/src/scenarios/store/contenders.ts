/**
 * The caches the `store` scenario compares, behind one tiny adapter so every
 * workload loop is written once. Each measured run holds exactly one
 * contender in its process, so the adapter's call sites stay monomorphic and
 * cost every contender the same.
 */
import { LRUCache } from 'lru-cache';

/** Contender names, anchor first. */
export const CONTENDERS = ['lru-cache', 'shoal-lru', 'shoal-lfu', 'shoal-tinylfu'] as const;
export type ContenderName = (typeof CONTENDERS)[number];
/** What every Shoal figure is compared against. */
export const ANCHOR: ContenderName = 'lru-cache';

/** The operations the workloads need. Values are always strings here. */
export interface CacheAdapter {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  /** Live entries. */
  size(): number;
  /** Releases timers; the adapter is unusable afterwards. */
  close(): void;
}

/** A contender cannot be built here (Shoal not built yet, or without `LocalCache`); its runs are skipped, not failed. */
export class ContenderUnavailableError extends Error {
  override readonly name = 'ContenderUnavailableError';
  readonly code = 'BENCH_CONTENDER_UNAVAILABLE';
}

type LocalCacheClass = typeof import('@shoal/node')['LocalCache'];

// Loaded lazily (types still checked at build time) so lru-cache runs even when Shoal's build is broken or missing.
async function loadLocalCache(): Promise<LocalCacheClass> {
  let mod: Partial<typeof import('@shoal/node')>;
  try {
    mod = await import('@shoal/node');
  } catch (err) {
    throw new ContenderUnavailableError(`@shoal/node could not be loaded: ${(err as Error).message}`);
  }
  if (typeof mod.LocalCache !== 'function')
    throw new ContenderUnavailableError('@shoal/node does not export LocalCache');
  return mod.LocalCache;
}

/** Builds `name` bounded to `maxEntries` entries. */
export async function createAdapter(name: ContenderName, maxEntries: number): Promise<CacheAdapter> {
  if (name === 'lru-cache') {
    const cache = new LRUCache<string, string>({ max: maxEntries });
    return {
      get: (key) => cache.get(key),
      set: (key, value) => {
        cache.set(key, value);
      },
      size: () => cache.size,
      close: () => {},
    };
  }
  const LocalCache = await loadLocalCache();
  const eviction = name === 'shoal-lru' ? 'lru' : name === 'shoal-lfu' ? 'lfu' : 'tinylfu';
  const cache = new LocalCache({ maxEntries, eviction });
  return {
    get: (key) => cache.get(key) as string | undefined, // values set here are strings
    set: (key, value) => {
      cache.set(key, value);
    },
    size: () => cache.stats().entries,
    close: () => cache.close(),
  };
}
