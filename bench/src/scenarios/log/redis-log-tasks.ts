/**
 * The Redis anchor of the log scenario, as worker tasks (each run by runTask
 * in a fresh child process, one ioredis connection each): XADD pipelined in
 * batches of the same window as Shoal's appends, XREADGROUP COUNT k + XACK,
 * PUBLISH pipelined to one SUBSCRIBE client in another process, and the two
 * ends of the fixed-rate latency test (XADD, XREADGROUP BLOCK).
 */
import { Redis } from 'ioredis';
import {
  ArrivalCounter,
  type ArrivalResult,
  type ArrivalSpec,
  type BatchOutcome,
  type BurstResult,
  burstValue,
  type LatencyResult,
  latencyReceiver,
  type RateResult,
  type RateSpec,
  readStamp,
  runBurst,
  runFixedRate,
} from './log-load.js';
import type { BurstParams } from './params.js';

interface Connection {
  readonly port: number;
}

export interface RedisAppendInput extends Connection {
  readonly key: string;
  readonly spec: BurstParams;
  readonly valueBytes: number;
}

export interface RedisConsumeInput extends Connection {
  readonly key: string;
  readonly group: string;
  /** `batch` is the XREADGROUP COUNT. */
  readonly spec: ArrivalSpec & { readonly batch: number };
}

/** What a Redis consume run counted, and the group's pending entries afterwards (0: every ack landed). */
export interface RedisConsumeResult extends ArrivalResult {
  readonly pendingAfter: number;
}

export interface RedisPublishInput extends Connection {
  readonly channel: string;
  readonly spec: BurstParams;
  readonly valueBytes: number;
  readonly interestTimeoutMs: number;
}

export interface RedisSubscribeInput extends Connection {
  readonly channel: string;
  readonly spec: ArrivalSpec;
}

export interface RedisLatencyProduceInput extends Connection {
  readonly key: string;
  readonly spec: RateSpec;
}

export interface RedisLatencyConsumeInput extends Connection {
  readonly key: string;
  readonly group: string;
  readonly spec: ArrivalSpec;
}

const CONSUMER = 'c1';
const LATENCY_COUNT = 100;
const BLOCK_MS = 100;

async function withRedis<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** A pipeline's replies: [error, result] pairs, or null when the pipeline itself failed. */
function pipelineOutcome(replies: [Error | null, unknown][] | null, count: number): BatchOutcome {
  if (replies === null) return { errors: count, firstError: 'pipeline failed' };
  let errors = 0;
  let firstError: string | null = null;
  for (const [err] of replies) {
    if (err === null) continue;
    errors++;
    firstError ??= err.message;
  }
  return { errors, firstError };
}

/**
 * Entries of an XREADGROUP reply for one stream: [[key, [[id, [field, value]], ...]]]
 * (RESP2 shape; RESP3 legacy mapping may flatten the outer map to [key, entries]).
 */
export function streamEntries(reply: unknown): [id: string, fields: unknown[] | null][] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0] as unknown;
  const entries = Array.isArray(first) ? first[1] : reply[1];
  return Array.isArray(entries) ? (entries as [string, unknown[] | null][]) : [];
}

/** The `v` field of a stream entry's fields. */
const fieldValue = (fields: unknown[] | null): unknown => (fields === null ? undefined : fields[1]);

async function createGroup(redis: Redis, key: string, group: string): Promise<void> {
  try {
    await redis.call('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!/BUSYGROUP/.test((err as Error).message)) throw err;
  }
}

/** XADD `spec.messages` entries, `spec.window` per pipeline (after the warm-up, to a side stream deleted after). */
export function redisAppend(input: RedisAppendInput): Promise<BurstResult> {
  const value = burstValue(input.valueBytes);
  return withRedis(input.port, async (redis) => {
    const xadd = (key: string) => async (n: number) => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < n; i++) pipeline.xadd(key, '*', 'v', value);
      return pipelineOutcome(await pipeline.exec(), n);
    };
    const warmKey = `${input.key}:warmup`;
    const burst = await runBurst(input.spec, xadd(input.key), xadd(warmKey));
    await redis.del(warmKey);
    return burst;
  });
}

/** Reads the stream as one group member (XREADGROUP COUNT batch), acking each batch without waiting; deletes the stream after. */
export function redisConsume(input: RedisConsumeInput): Promise<RedisConsumeResult> {
  const { key, group, spec } = input;
  return withRedis(input.port, async (redis) => {
    await createGroup(redis, key, group);
    const counter = new ArrivalCounter(spec);
    let finished = false;
    void counter.done.then(() => {
      finished = true;
    });
    const acks: Promise<unknown>[] = [];
    while (!finished) {
      const reply = await redis.call(
        'XREADGROUP',
        'GROUP',
        group,
        CONSUMER,
        'COUNT',
        spec.batch,
        'BLOCK',
        BLOCK_MS,
        'STREAMS',
        key,
        '>',
      );
      const entries = streamEntries(reply);
      if (entries.length === 0) continue;
      // sent right behind the read on the same connection; awaited at the end
      acks.push(redis.xack(key, group, ...entries.map(([id]) => id)));
      for (let i = 0; i < entries.length; i++) counter.hit();
    }
    await Promise.allSettled(acks);
    const result = await counter.done;
    const pending = (await redis.call('XPENDING', key, group)) as unknown[];
    await redis.del(key);
    return { ...result, pendingAfter: Number(pending[0] ?? 0) };
  });
}

/** Waits for a subscriber (PUBSUB NUMSUB), then PUBLISHes `spec.messages`, `spec.window` per pipeline. */
export function redisPublish(input: RedisPublishInput): Promise<BurstResult & { readonly probes: number }> {
  const value = burstValue(input.valueBytes);
  return withRedis(input.port, async (redis) => {
    const deadline = Date.now() + input.interestTimeoutMs;
    let probes = 0;
    for (;;) {
      probes++;
      const reply = (await redis.call('PUBSUB', 'NUMSUB', input.channel)) as unknown[];
      if (Number(reply[1] ?? 0) >= 1) break;
      if (Date.now() >= deadline)
        throw new Error(`no subscriber on ${input.channel} after ${input.interestTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const burst = await runBurst(input.spec, async (n) => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < n; i++) pipeline.publish(input.channel, value);
      return pipelineOutcome(await pipeline.exec(), n);
    });
    return { ...burst, probes };
  });
}

/** Subscribes and counts stamped messages until the spec stops it. */
export function redisSubscribe(input: RedisSubscribeInput): Promise<ArrivalResult> {
  return withRedis(input.port, async (redis) => {
    const counter = new ArrivalCounter(input.spec);
    redis.on('message', (_channel: string, message: string) => {
      if (readStamp(message) !== null) counter.hit();
    });
    await redis.subscribe(input.channel);
    return counter.done;
  });
}

/** XADD at the fixed rate, one command per message, not waiting for replies. */
export function redisLatencyProduce(input: RedisLatencyProduceInput): Promise<RateResult> {
  return withRedis(input.port, (redis) => runFixedRate(input.spec, (value) => redis.xadd(input.key, '*', 'v', value)));
}

/** Reads with XREADGROUP BLOCK as messages come, acks each batch without waiting, records latency; deletes the stream after. */
export function redisLatencyConsume(input: RedisLatencyConsumeInput): Promise<LatencyResult> {
  const { key, group } = input;
  return withRedis(input.port, async (redis) => {
    await createGroup(redis, key, group);
    const receiver = latencyReceiver(input.spec);
    let finished = false;
    void receiver.done.then(() => {
      finished = true;
    });
    while (!finished) {
      const reply = await redis.call(
        'XREADGROUP',
        'GROUP',
        group,
        CONSUMER,
        'COUNT',
        LATENCY_COUNT,
        'BLOCK',
        BLOCK_MS,
        'STREAMS',
        key,
        '>',
      );
      const entries = streamEntries(reply);
      if (entries.length === 0) continue;
      void redis.xack(key, group, ...entries.map(([id]) => id)).catch(() => {});
      for (const [, fields] of entries) receiver.receive(fieldValue(fields));
    }
    const result = await receiver.done;
    await redis.del(key);
    return result;
  });
}
