/**
 * /v1/keys: read, write and delete plain values over HTTP. The request body is
 * the value: JSON for application/json, raw bytes for application/octet-stream,
 * a string for text/plain; a value read back is sent the same way (bytes as
 * octet-stream, everything else as JSON). TTL and conditions are query parameters.
 */
import { ShoalError } from '@shoal/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { SetOptions } from '../store/local-cache.js';
import { validateKey } from '../store/validation.js';

interface KeyParams {
  key: string;
}
interface PutQuery {
  ttl?: string;
  nx?: boolean;
  xx?: boolean;
}

const keyParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', minLength: 1 } },
} as const;

/** The key operations the routes need: a LocalCache, or a node's cluster-wide cache. */
export interface KeyValueApi {
  get(key: string): unknown;
  set(key: string, value: unknown, options?: SetOptions): boolean | Promise<boolean>;
  delete(key: string): boolean | Promise<boolean>;
}

export const keysRoutes: FastifyPluginAsync<{ cache: KeyValueApi; maxKeyBytes: number }> = async (
  app,
  { cache, maxKeyBytes },
) => {
  // reads of the library API treat an impossible key as a miss; at the edge it is a client error
  app.addHook('preHandler', async (request) => {
    validateKey((request.params as KeyParams).key, maxKeyBytes);
  });

  app.get<{ Params: KeyParams }>('/:key', { schema: { params: keyParams } }, async (request, reply) => {
    const value = await cache.get(request.params.key);
    if (value === undefined) {
      throw new ShoalError('SHOAL_KEY_NOT_FOUND', `no key ${JSON.stringify(request.params.key)}`, {
        key: request.params.key,
      });
    }
    if (value instanceof Uint8Array) return reply.type('application/octet-stream').send(Buffer.from(value));
    return reply.type('application/json').send(JSON.stringify(value));
  });

  app.put<{ Params: KeyParams; Querystring: PutQuery; Body: unknown }>(
    '/:key',
    {
      schema: {
        params: keyParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ttl: { type: 'string', description: 'time to live: milliseconds or a duration like 30s' },
            nx: { type: 'boolean' },
            xx: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      if (request.body === undefined || request.body === null || request.headers['content-type'] === undefined) {
        throw new ShoalError('SHOAL_VALUE_INVALID', 'the request body is the value: send one with a content type');
      }
      const { ttl, nx, xx } = request.query;
      const options: SetOptions = {};
      if (ttl !== undefined) options.ttl = /^\d+(\.\d+)?$/.test(ttl) ? Number(ttl) : ttl;
      if (nx !== undefined) options.nx = nx;
      if (xx !== undefined) options.xx = xx;
      const written = await cache.set(request.params.key, request.body, options);
      return reply.send({ written });
    },
  );

  app.delete<{ Params: KeyParams }>('/:key', { schema: { params: keyParams } }, async (request) => ({
    deleted: await cache.delete(request.params.key),
  }));
};
