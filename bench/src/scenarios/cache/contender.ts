/**
 * The two caches the scenario compares, behind the three things it does with
 * them: write a key, read-through with a loader, and be told when this
 * process's copy of a key is dropped because another process wrote it. Shoal:
 * an embedded node whose near cache follows the primaries' invalidation
 * streams. BentoCache: memory L1 + Redis L2 + Redis bus, the setup its docs
 * recommend for several processes.
 */
import { createNode, type ShoalNode } from '@shoal/node';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';

/** One cache instance in this process. */
export interface CacheContender {
  set(key: string, value: string): Promise<unknown>;
  getOrSet(key: string, loader: () => Promise<string>): Promise<unknown>;
  /** Called with each key whose local copy another process's write dropped. */
  onDrop(listener: (key: string) => void): void;
  close(): Promise<void>;
}

/** Plain data for starting a Shoal node in a worker. */
export interface ShoalStart {
  readonly nodeId: string;
  readonly seeds: readonly string[];
  /** Near cache size; 0 = no near cache. */
  readonly nearCacheEntries: number;
}

export async function startShoal(options: ShoalStart): Promise<{ node: ShoalNode; contender: CacheContender }> {
  const node = await createNode({
    host: '127.0.0.1',
    port: 0,
    nodeId: options.nodeId,
    seeds: [...options.seeds],
    ...(options.nearCacheEntries > 0 ? { nearCache: { maxEntries: options.nearCacheEntries } } : {}),
  });
  const contender: CacheContender = {
    set: (key, value) => node.cache.set(key, value),
    getOrSet: (key, loader) => node.cache.getOrSet(key, loader, { ttl: '1m' }),
    onDrop(listener) {
      const near = node.nearCache;
      if (near === undefined) throw new Error('onDrop needs a node started with a near cache');
      near.onInvalidate = listener;
    },
    close: () => node.shutdown(),
  };
  return { node, contender };
}

/** Plain data for starting a BentoCache instance in a worker. */
export interface BentoStart {
  readonly redisPort: number;
  readonly l1MaxItems: number;
}

export async function startBento(options: BentoStart): Promise<CacheContender> {
  const connection = { host: '127.0.0.1', port: options.redisPort };
  const bento = new BentoCache({
    default: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: options.l1MaxItems }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  // the bus hands messages only to namespaces this process has used: one read registers the default one
  await bento.get({ key: '__bench_registered' });
  return {
    set: (key, value) => bento.set({ key, value, ttl: '1m' }),
    getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader, ttl: '1m' }),
    onDrop(listener) {
      bento.on('bus:message:received', ({ message }) => {
        for (const key of message.keys) listener(key);
      });
    },
    close: () => bento.disconnect(),
  };
}
