/**
 * `shoal.log`: the durable message log through the client. Appends, reads and
 * topic creation are single requests the node routes to the partition leader;
 * `consume` runs a consumer group member in the client (RemoteConsumer) whose
 * fetches and acks travel through the node, so it behaves as the embedded one.
 */
import {
  type AppendOptions,
  type AppendReceipt,
  type ConsumedMessage,
  type ConsumeOptions,
  type LogApi,
  type LogEntry,
  MessageKind,
  type TopicOptions,
} from '@shoal/protocol';
import { RemoteConsumer } from './remote-consumer.js';
import type { RequestOptions, ShoalClient } from './shoal-client.js';

/** The message log, through the client. */
export class RemoteLog<V = unknown> implements LogApi<V> {
  constructor(private readonly client: ShoalClient<V>) {}

  /** Creates a topic (or returns the options of the existing one). */
  createTopic(topic: string, options: TopicOptions = {}, request?: RequestOptions): Promise<unknown> {
    return this.client.call(MessageKind.ClientLogCreateTopic, [topic, options], undefined, request);
  }

  /** Appends a message; resolves once the ack level's copies hold it. */
  append(topic: string, value: V, options: AppendOptions = {}, request?: RequestOptions): Promise<AppendReceipt> {
    return this.client.call(
      MessageKind.ClientLogAppend,
      [topic, value, options],
      undefined,
      request,
    ) as Promise<AppendReceipt>;
  }

  /** Reads up to `maxMessages` records of one partition from `fromOffset`. */
  read(
    topic: string,
    partition: number,
    fromOffset: number,
    maxMessages = 100,
    request?: RequestOptions,
  ): Promise<readonly LogEntry<V>[]> {
    return this.client.call(
      MessageKind.ClientLogRead,
      [topic, partition, fromOffset, maxMessages],
      undefined,
      request,
    ) as Promise<LogEntry<V>[]>;
  }

  /** Consumes `topic` as a member of `options.group`: return = ack, throw or `nack` = redelivery. */
  consume(
    topic: string,
    options: ConsumeOptions,
    handler: (message: ConsumedMessage<V>) => unknown,
  ): RemoteConsumer<V> {
    const consumer = new RemoteConsumer<V>(this.client, topic, options, handler);
    consumer.start();
    return consumer;
  }
}
