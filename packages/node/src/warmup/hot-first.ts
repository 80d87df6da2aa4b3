/**
 * Hottest keys first in partition migration. A node that (re)joins serves
 * reads of its partitions while they are still arriving; sending the keys the
 * eviction policy counts as most read first means the reads it gets soonest
 * are the ones already warm. The first page of a pull or push (cursor 0) is
 * the `maxItems` hottest keys of the partitions, hottest first; the pages
 * after it are the plain partition scan (so at most one page travels twice:
 * applying a copy again changes nothing). Stateless on the serving side.
 */
import type { PartitionPage, ReplicaStore } from '../replication/replica-store.js';
import { nextTurn, SCAN_KEYS_PER_TURN } from '../replication/scan-turns.js';

/** Cursor after the hot page: the plain scan starts next. Above every scan cursor (< 2^41). */
export const AFTER_HOT_PAGE = 2 ** 50;

/** One migration page of `partitions`: the hottest keys when `cursor` is 0, then the plain scan. */
export async function hotFirstPage(
  store: ReplicaStore,
  partitionOf: (key: string) => number,
  partitions: ReadonlySet<number>,
  cursor: number,
  maxItems: number,
): Promise<PartitionPage> {
  if (cursor === AFTER_HOT_PAGE) return store.scanPartitions(partitions, 0, maxItems);
  if (cursor !== 0) return store.scanPartitions(partitions, cursor, maxItems);
  const items = await hottest(store, partitionOf, partitions, maxItems);
  if (items.length === 0) return store.scanPartitions(partitions, 0, maxItems);
  return { items, cursor: AFTER_HOT_PAGE };
}

/**
 * The up to `maxItems` keys of `partitions` with hotness above 0, hottest
 * first, with their records. The store is read in turns (scan-turns.ts): a
 * key written or removed meanwhile may or may not be seen, as with scan.
 */
export async function hottest(
  store: ReplicaStore,
  partitionOf: (key: string) => number,
  partitions: ReadonlySet<number>,
  maxItems: number,
): Promise<PartitionPage['items']> {
  // under lru nothing is counted: no key would score, so the scan is skipped
  if (!store.cache.ranksHotness) return [];
  // first keys and scores only, so a large partition is not copied to pick a few records
  const scored: { key: string; hotness: number }[] = [];
  let cursor = 0;
  do {
    const page = store.cache.scan({ cursor, count: SCAN_KEYS_PER_TURN });
    for (const key of page.keys) {
      if (!partitions.has(partitionOf(key))) continue;
      const hotness = store.cache.hotness(key);
      if (hotness > 0) scored.push({ key, hotness });
    }
    cursor = page.cursor;
    if (cursor !== 0) await nextTurn();
  } while (cursor !== 0);
  scored.sort((a, b) => b.hotness - a.hotness);
  const items: PartitionPage['items'] = [];
  for (const { key } of scored) {
    if (items.length >= maxItems) break;
    const record = store.cache.entry(key);
    if (record !== undefined) items.push([key, record]);
  }
  return items;
}
