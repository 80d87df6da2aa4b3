/**
 * The Shoal side of the log scenario, run inside a cluster node worker
 * (cluster/node-worker.ts hands every `{ type: 'log' }` command here): the
 * same bursts, receivers and fixed-rate producer as the Redis tasks, through
 * the embedded `node.log` and `node.pubsub` APIs of the worker's node.
 */
import { createXxHash32, Partitioner, type ShoalNode } from '@shoal/node';
import {
  ArrivalCounter,
  type ArrivalResult,
  type ArrivalSpec,
  burstValue,
  latencyReceiver,
  readStamp,
  runBurst,
  runFixedRate,
  settleBatch,
} from './log-load.js';
import type { ConsumeResult, ConsumeSpec, LeadersResult, LogCommand, LogResult } from './log-protocol.js';

const LAG_TIMEOUT_MS = 5000;

async function totalLag(node: ShoalNode, topic: string, group: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), LAG_TIMEOUT_MS);
  });
  const lag = node.log.lag(topic, group).then(
    (parts) => parts.reduce((sum, p) => sum + p.lag, 0),
    () => null,
  );
  const result = await Promise.race([lag, timeout]);
  clearTimeout(timer);
  return result;
}

async function consume(node: ShoalNode, topic: string, group: string, spec: ConsumeSpec): Promise<ConsumeResult> {
  const counter = new ArrivalCounter(spec);
  // no 'error' listener: failures are retried by the consumer and kept in lastError
  const consumer = node.log.consume(topic, { group, from: 'earliest', concurrency: spec.concurrency }, () => {
    counter.hit();
  });
  const arrived = await counter.done;
  await consumer.close();
  return {
    ...arrived,
    lagAfter: await totalLag(node, topic, group),
    consumerError: consumer.lastError?.message ?? null,
  };
}

async function subscribe(node: ShoalNode, channel: string, spec: ArrivalSpec): Promise<ArrivalResult> {
  const counter = new ArrivalCounter(spec);
  const unsubscribe = node.pubsub.subscribe(channel, (message) => {
    if (readStamp(message) !== null) counter.hit(); // probes are not counted
  });
  try {
    return await counter.done;
  } finally {
    unsubscribe();
  }
}

/** Publishes probes until one reaches `nodes` nodes (interest sets travel asynchronously after a subscribe). */
async function awaitInterest(node: ShoalNode, channel: string, nodes: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (let probes = 1; ; probes++) {
    if ((await node.pubsub.publish(channel, 'probe')) >= nodes) return { probes };
    if (Date.now() >= deadline)
      throw new Error(`no subscriber on ${nodes} node(s) of ${channel} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function latencyConsume(node: ShoalNode, topic: string, group: string, spec: ArrivalSpec) {
  const receiver = latencyReceiver(spec);
  // default concurrency (16): the rate is low, this is the setting an application starts with
  const consumer = node.log.consume(topic, { group, from: 'earliest' }, (m) => {
    receiver.receive(m.value);
  });
  const result = await receiver.done;
  await consumer.close();
  return result;
}

/** Which node leads each partition: message-log.ts places topic partition p on ring partition partitionOf(`${topic}\0${p}`). */
async function leaders(node: ShoalNode, topic: string, partitions: number): Promise<LeadersResult> {
  const table = node.partitionTable();
  const ring = new Partitioner(table.partitionCount, await createXxHash32());
  return {
    leaders: Array.from(
      { length: partitions },
      (_, p) => table.owners[ring.partitionOf(`${topic}\u0000${p}`)]?.[0] ?? null,
    ),
  };
}

/** Runs one log command on this worker's node. */
export async function runLogCommand(node: ShoalNode, command: LogCommand): Promise<LogResult> {
  switch (command.op) {
    case 'create-topic':
      await node.log.createTopic(command.topic, { partitions: command.partitions });
      return null;
    case 'append': {
      const value = burstValue(command.valueBytes);
      const options = { acks: command.acks };
      const appendTo = (topic: string) => (n: number) =>
        settleBatch(Array.from({ length: n }, () => node.log.append(topic, value, options)));
      return runBurst(command.spec, appendTo(command.topic), appendTo(`${command.topic}.warmup`));
    }
    case 'consume':
      return consume(node, command.topic, command.group, command.spec);
    case 'subscribe':
      return subscribe(node, command.channel, command.spec);
    case 'await-interest':
      return awaitInterest(node, command.channel, command.nodes, command.timeoutMs);
    case 'publish': {
      const value = burstValue(command.valueBytes);
      return runBurst(command.spec, (n) =>
        settleBatch(Array.from({ length: n }, () => node.pubsub.publish(command.channel, value))),
      );
    }
    case 'latency-produce':
      return runFixedRate(command.spec, (value) => node.log.append(command.topic, value));
    case 'latency-consume':
      return latencyConsume(node, command.topic, command.group, command.spec);
    case 'leaders':
      return leaders(node, command.topic, command.partitions);
  }
}
