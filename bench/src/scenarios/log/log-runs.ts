/**
 * One measured run of each contender of the `log` scenario, on fresh
 * processes: (1) append burst, (2) consume + ack of what was appended,
 * (3) publish burst to one subscriber in another process, (4) fixed-rate
 * end-to-end latency, producer and consumer in different processes. Shoal:
 * a 3-node cluster (cluster/local-cluster.ts), producer on node 0, consumer
 * and subscriber on node 1. Redis: one server, every role its own ioredis process.
 */
import { runTask } from '../../runner/child-runner.js';
import { LocalCluster, type NodeProcess } from '../cluster/local-cluster.js';
import {
  type ArrivalResult,
  type ArrivalSpec,
  type BurstResult,
  type LatencyResult,
  type RateResult,
  ratePerSec,
  rateTotals,
} from './log-load.js';
import type { ConsumeResult, LeadersResult, LogCommand, LogResult } from './log-protocol.js';
import type { LogParams } from './params.js';
import type {
  RedisAppendInput,
  RedisConsumeInput,
  RedisConsumeResult,
  RedisLatencyConsumeInput,
  RedisLatencyProduceInput,
  RedisPublishInput,
  RedisSubscribeInput,
} from './redis-log-tasks.js';

/** Consumption measured by the receiver. */
export interface ConsumeRun {
  readonly arrival: ArrivalResult;
  /** Messages it was asked to consume (what the append phase stored). */
  readonly expected: number;
  /** Arrivals per second from the consumer's start to its last arrival. */
  readonly perSec: number;
  /** Messages not acked after the consumer stopped: Shoal group lag, Redis XPENDING (null: unknown). */
  readonly unackedAfter: number | null;
  readonly error: string | null;
}

export interface FanoutRun {
  readonly publish: BurstResult;
  readonly subscribe: ArrivalResult;
  /** Deliveries per second from the first publish to the last delivery (one monotonic clock for both processes). */
  readonly perSec: number;
}

export interface LatencyRun {
  readonly produce: RateResult;
  readonly consume: LatencyResult;
}

/** Where a Shoal run's topic partitions were led: appends to the others cross the network. */
export interface Placement {
  readonly partitions: number;
  /** Partitions led by the producer's node and by the consumer's node. */
  readonly producerLeads: number;
  readonly consumerLeads: number;
}

/** Everything one run of one contender measured. */
export interface LogRun {
  readonly append: BurstResult;
  readonly consume: ConsumeRun;
  readonly fanout: FanoutRun;
  readonly latency: LatencyRun;
  /** Shoal only (null for Redis). */
  readonly placement: Placement | null;
}

const MARGIN_MS = 30_000;

/** Arrivals per second from the receiver's start to its last arrival. */
export function consumeRate(a: ArrivalResult): number {
  return a.lastUs === null ? 0 : ratePerSec(a.count, a.lastUs - a.startUs);
}

/** Deliveries per second from the publisher's first send to the subscriber's last delivery. */
export function fanoutRate(publish: BurstResult, subscribe: ArrivalResult): number {
  return subscribe.lastUs === null ? 0 : ratePerSec(subscribe.count, subscribe.lastUs - publish.startUs);
}

function consumeRun(arrival: ArrivalResult, expected: number, unackedAfter: number | null, error: string | null) {
  return { arrival, expected, perSec: consumeRate(arrival), unackedAfter, error };
}

const consumeSpec = (p: LogParams, target: number): ArrivalSpec => ({
  target,
  idleMs: p.consume.idleMs,
  maxMs: p.consume.maxMs,
});

const subscribeSpec = (p: LogParams): ArrivalSpec => ({
  target: p.fanout.messages,
  idleMs: p.fanout.idleMs,
  // counting starts before the interest reaches the publisher
  maxMs: p.fanout.interestTimeoutMs + p.fanout.maxMs + p.fanout.idleMs,
});

function latencySpecs(p: LogParams) {
  const startAt = Date.now() + p.startLeadMs;
  const rate = { startAt, ...p.latency, valueBytes: p.valueBytes };
  const receive: ArrivalSpec = {
    target: rateTotals(p.latency).total,
    idleMs: p.latency.idleMs,
    maxMs: p.startLeadMs + p.latency.warmupMs + p.latency.durationMs + p.latency.idleMs + 10_000,
  };
  return { rate, receive, timeoutMs: receive.maxMs + MARGIN_MS };
}

function logCommand<R extends LogResult>(node: NodeProcess, command: LogCommand, timeoutMs: number): Promise<R> {
  return node.request<R>({ type: 'log', command }, timeoutMs);
}

/** Append then consume what was appended; where the topic's partitions were led. */
async function shoalAppendConsume(producer: NodeProcess, consumer: NodeProcess, p: LogParams, run: number) {
  const topic = `bench-${run}`;
  await logCommand(producer, { op: 'create-topic', topic, partitions: p.partitions }, MARGIN_MS);
  const append = await logCommand<BurstResult>(
    producer,
    { op: 'append', topic, spec: p.append, valueBytes: p.valueBytes, acks: 'quorum' },
    (p.append.warmupMs ?? 0) + p.append.maxMs + MARGIN_MS,
  );
  const expected = append.sent - append.errors;
  const { leaders } = await logCommand<LeadersResult>(
    producer,
    { op: 'leaders', topic, partitions: p.partitions },
    MARGIN_MS,
  );
  const placement: Placement = {
    partitions: p.partitions,
    producerLeads: leaders.filter((l) => l === producer.nodeId).length,
    consumerLeads: leaders.filter((l) => l === consumer.nodeId).length,
  };
  const consumed = await logCommand<ConsumeResult>(
    consumer,
    { op: 'consume', topic, group: 'g', spec: { ...consumeSpec(p, expected), concurrency: p.consume.batch } },
    p.consume.maxMs + MARGIN_MS,
  );
  const consume = consumeRun(consumed, expected, consumed.lagAfter, consumed.consumerError);
  return { append, consume, placement };
}

/** Subscribe on the consumer's node, wait until the producer's node sees that interest, publish. */
async function shoalFanout(producer: NodeProcess, consumer: NodeProcess, p: LogParams, run: number) {
  const channel = `fanout-${run}`;
  const sub = subscribeSpec(p);
  const subscribed = logCommand<ArrivalResult>(
    consumer,
    { op: 'subscribe', channel, spec: sub },
    sub.maxMs + MARGIN_MS,
  );
  subscribed.catch(() => {}); // awaited below; this keeps a failure before that point from going unhandled
  await logCommand(
    producer,
    { op: 'await-interest', channel, nodes: 1, timeoutMs: p.fanout.interestTimeoutMs },
    p.fanout.interestTimeoutMs + MARGIN_MS,
  );
  const publish = await logCommand<BurstResult>(
    producer,
    { op: 'publish', channel, spec: p.fanout, valueBytes: p.valueBytes },
    p.fanout.maxMs + MARGIN_MS,
  );
  const subscribe = await subscribed;
  return { publish, subscribe, perSec: fanoutRate(publish, subscribe) };
}

/** A fresh topic; consumer and fixed-rate producer start together. */
async function shoalLatency(producer: NodeProcess, consumer: NodeProcess, p: LogParams, run: number) {
  const topic = `latency-${run}`;
  await logCommand(producer, { op: 'create-topic', topic, partitions: p.partitions }, MARGIN_MS);
  const l = latencySpecs(p);
  const [consume, produce] = await Promise.all([
    logCommand<LatencyResult>(consumer, { op: 'latency-consume', topic, group: 'lat', spec: l.receive }, l.timeoutMs),
    logCommand<RateResult>(producer, { op: 'latency-produce', topic, spec: l.rate }, l.timeoutMs),
  ]);
  return { produce, consume };
}

/** A fresh 3-node cluster; every phase driven through the embedded API of nodes 0 and 1. */
export async function measureShoalRun(p: LogParams, run: number): Promise<LogRun> {
  const cluster = await LocalCluster.start({ size: p.nodes, idPrefix: `l${run}`, readyTimeoutMs: p.readyTimeoutMs });
  try {
    await cluster.waitUntil(() => cluster.converged(), p.convergeTimeoutMs, 'convergence');
    const [producer, consumer] = cluster.nodes as [NodeProcess, NodeProcess];
    const { append, consume, placement } = await shoalAppendConsume(producer, consumer, p, run);
    const fanout = await shoalFanout(producer, consumer, p, run);
    const latency = await shoalLatency(producer, consumer, p, run);
    return { append, consume, fanout, latency, placement };
  } finally {
    await cluster.stop();
  }
}

const task = new URL('./redis-log-tasks.js', import.meta.url);

function redisTask<I, O>(exportName: string, input: I, timeoutMs: number): Promise<O> {
  return runTask<I, O>({ module: task, exportName, input, timeoutMs });
}

/** The same phases against one redis-server, each role in a fresh ioredis process; the run's keys are deleted after. */
export async function measureRedisRun(p: LogParams, port: number, run: number): Promise<LogRun> {
  const key = `bench:log:${run}`;
  const append = await redisTask<RedisAppendInput, BurstResult>(
    'redisAppend',
    { port, key, spec: p.append, valueBytes: p.valueBytes },
    (p.append.warmupMs ?? 0) + p.append.maxMs + MARGIN_MS,
  );
  const expected = append.sent - append.errors;
  const consumed = await redisTask<RedisConsumeInput, RedisConsumeResult>(
    'redisConsume',
    { port, key, group: 'g', spec: { ...consumeSpec(p, expected), batch: p.consume.batch } },
    p.consume.maxMs + MARGIN_MS,
  );

  const channel = `fanout:${run}`;
  const sub = subscribeSpec(p);
  const subscribed = redisTask<RedisSubscribeInput, ArrivalResult>(
    'redisSubscribe',
    { port, channel, spec: sub },
    sub.maxMs + MARGIN_MS,
  );
  const published = redisTask<RedisPublishInput, BurstResult>(
    'redisPublish',
    { port, channel, spec: p.fanout, valueBytes: p.valueBytes, interestTimeoutMs: p.fanout.interestTimeoutMs },
    p.fanout.interestTimeoutMs + p.fanout.maxMs + MARGIN_MS,
  );
  const [publish, subscribe] = await Promise.all([published, subscribed]);

  const l = latencySpecs(p);
  const latencyKey = `bench:latency:${run}`;
  const [latencyConsume, produce] = await Promise.all([
    redisTask<RedisLatencyConsumeInput, LatencyResult>(
      'redisLatencyConsume',
      { port, key: latencyKey, group: 'lat', spec: l.receive },
      l.timeoutMs,
    ),
    redisTask<RedisLatencyProduceInput, RateResult>(
      'redisLatencyProduce',
      { port, key: latencyKey, spec: l.rate },
      l.timeoutMs,
    ),
  ]);
  return {
    append,
    consume: consumeRun(consumed, expected, consumed.pendingAfter, null),
    fanout: { publish, subscribe, perSec: fanoutRate(publish, subscribe) },
    latency: { produce, consume: latencyConsume },
    placement: null,
  };
}
