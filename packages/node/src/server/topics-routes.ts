/**
 * /v1/topics: append to a topic, read a partition by offset, and see a
 * consumer group's lag, over HTTP. The body of a POST is the message value
 * (JSON, bytes or text, as for keys); key, id and acks are query parameters.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { MessageLog } from '../log/message-log.js';

interface TopicParams {
  topic: string;
}
interface PartitionParams extends TopicParams {
  partition: number;
}

const topicParams = {
  type: 'object',
  required: ['topic'],
  properties: { topic: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const topicsRoutes: FastifyPluginAsync<{ log: () => MessageLog }> = async (app, { log }) => {
  app.post<{ Params: TopicParams; Querystring: { key?: string; id?: string; acks?: 'leader' | 'quorum' } }>(
    '/:topic/messages',
    {
      schema: {
        params: topicParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            key: { type: 'string', maxLength: 1024 },
            id: { type: 'string', minLength: 1, maxLength: 256 },
            acks: { type: 'string', enum: ['leader', 'quorum'] },
          },
        },
      },
    },
    async (request, reply) => {
      const { key, id, acks } = request.query;
      const receipt = await log().append(request.params.topic, request.body, {
        ...(key === undefined ? {} : { key }),
        ...(id === undefined ? {} : { id }),
        ...(acks === undefined ? {} : { acks }),
      });
      return reply.status(receipt.duplicate ? 200 : 201).send(receipt);
    },
  );

  app.get<{ Params: PartitionParams; Querystring: { from?: number; max?: number } }>(
    '/:topic/partitions/:partition/messages',
    {
      schema: {
        params: {
          type: 'object',
          required: ['topic', 'partition'],
          properties: {
            topic: { type: 'string', minLength: 1, maxLength: 200 },
            partition: { type: 'integer', minimum: 0 },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: { type: 'integer', minimum: 0 }, max: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
      },
    },
    async (request) => {
      const records = await log().read(
        request.params.topic,
        request.params.partition,
        request.query.from ?? 0,
        request.query.max ?? 100,
      );
      return { messages: records.map(({ size: _size, ...r }) => r) };
    },
  );

  app.get<{ Params: TopicParams & { group: string } }>(
    '/:topic/groups/:group/lag',
    {
      schema: {
        params: {
          type: 'object',
          required: ['topic', 'group'],
          properties: {
            topic: { type: 'string', minLength: 1, maxLength: 200 },
            group: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (request) => {
      const partitions = await log().lag(request.params.topic, request.params.group);
      return { partitions, lag: partitions.reduce((s, p) => s + p.lag, 0) };
    },
  );
};
