/**
 * Worker tasks of the Redis anchor (run by runTask in a fresh child process):
 * one ioredis connection driving the same closed-loop load as a Shoal node
 * worker (load.ts), or writing its share of the keys beforehand.
 */
import { Redis } from 'ioredis';
import { type LoadResult, type LoadSpec, prefill, runLoad } from './load.js';

export interface RedisLoadInput {
  readonly port: number;
  readonly spec: LoadSpec;
}

export interface RedisPrefillInput {
  readonly port: number;
  readonly spec: Pick<LoadSpec, 'keys' | 'valueBytes' | 'concurrency'>;
}

async function withRedis<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** Runs the load against Redis through one connection. */
export function redisLoad(input: RedisLoadInput): Promise<LoadResult> {
  return withRedis(input.port, (redis) =>
    runLoad({ get: (key) => redis.get(key), set: (key, value) => redis.set(key, value) }, input.spec),
  );
}

/** Writes every key once, so gets hit as they do on Shoal. */
export function redisPrefill(input: RedisPrefillInput): Promise<{ written: number }> {
  return withRedis(input.port, async (redis) => ({
    written: await prefill(
      { get: (key) => redis.get(key), set: (key, value) => redis.set(key, value) },
      input.spec,
      0,
      1,
    ),
  }));
}
