/**
 * Worker tasks of the `memory` scenario, each run by runTask in a fresh child
 * process: a Shoal node (createNode, one member, so one copy) filled with
 * `entries` small string values, measured as heap and RSS growth per entry
 * after repeated gc(); and the same keys and values written to redis-server,
 * measured as `used_memory` and `used_memory_rss` growth per key.
 */
import { createNode } from '@shoal/node';
import { Redis } from 'ioredis';
import { infoNumber, parseRedisInfo } from '../../lib/redis-info.js';

export interface MemoryInput {
  readonly entries: number;
  /** Length of every value string (ASCII), e.g. 20. */
  readonly valueBytes: number;
  /** Writes in flight at once. */
  readonly batch: number;
}

export interface RedisMemoryInput extends MemoryInput {
  readonly port: number;
}

/** Growth per entry after filling. */
export interface MemoryRun {
  /** Entries the store reports holding afterwards (must equal the input). */
  readonly entries: number;
  /** Shoal: V8 heapUsed growth / entries. Redis: used_memory growth / keys. */
  readonly bytesPerEntry: number;
  /** Resident set growth / entries (Shoal: the node process; Redis: used_memory_rss). */
  readonly rssBytesPerEntry: number;
  /** Shoal only: ArrayBuffer and external memory growth / entries (0 for Redis). */
  readonly externalBytesPerEntry: number;
  /** Time to write every entry, ms. */
  readonly fillMs: number;
}

/** Key and value of entry `i`; the same for both contenders. */
export function entryKey(i: number): string {
  return `key:${i}`;
}
export function entryValue(i: number, bytes: number): string {
  return `v${i}:`.padEnd(bytes, 'x');
}

declare const gc: (() => void) | undefined;

/** Full collections until heapUsed stops shrinking (bounded), so garbage does not count as entries. */
function settledMemory(): NodeJS.MemoryUsage {
  let last = process.memoryUsage();
  for (let i = 0; i < 6; i++) {
    if (typeof gc !== 'function') break;
    gc();
    const now = process.memoryUsage();
    if (now.heapUsed >= last.heapUsed * 0.999) return now;
    last = now;
  }
  return last;
}

/** Runs `write(i)` for i in [0, entries), `batch` at a time. */
async function fill(input: MemoryInput, write: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < input.entries; from += input.batch) {
    const to = Math.min(input.entries, from + input.batch);
    const pending: Promise<unknown>[] = [];
    for (let i = from; i < to; i++) pending.push(write(i));
    await Promise.all(pending);
  }
  return performance.now() - started;
}

/** One Shoal node in this process, filled through `node.cache.set`. */
export async function shoalMemory(input: MemoryInput): Promise<MemoryRun> {
  const node = await createNode({ host: '127.0.0.1', port: 0, memory: '4gb', antiEntropyIntervalMs: 0 });
  try {
    const before = settledMemory();
    const fillMs = await fill(input, (i) => node.cache.set(entryKey(i), entryValue(i, input.valueBytes)));
    const after = settledMemory();
    const entries = (await node.stats()).node.entries;
    const per = (a: number, b: number) => (a - b) / input.entries;
    return {
      entries,
      bytesPerEntry: per(after.heapUsed, before.heapUsed),
      rssBytesPerEntry: per(after.rss, before.rss),
      externalBytesPerEntry: per(after.external + after.arrayBuffers, before.external + before.arrayBuffers),
      fillMs,
    };
  } finally {
    await node.shutdown();
  }
}

/** Empties the server, writes every entry with pipelined SETs, and reads INFO memory around it. */
export async function redisMemory(input: RedisMemoryInput): Promise<MemoryRun> {
  const redis = new Redis({ host: '127.0.0.1', port: input.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    await redis.flushall();
    const info = async () => parseRedisInfo(await redis.info('memory'));
    const before = await info();
    const fillMs = await fill(input, (i) => redis.set(entryKey(i), entryValue(i, input.valueBytes)));
    const after = await info();
    const entries = await redis.dbsize();
    const per = (name: string) => (infoNumber(after, name) - infoNumber(before, name)) / input.entries;
    await redis.flushall();
    return {
      entries,
      bytesPerEntry: per('used_memory'),
      rssBytesPerEntry: per('used_memory_rss'),
      externalBytesPerEntry: 0,
      fillMs,
    };
  } finally {
    redis.disconnect();
  }
}
