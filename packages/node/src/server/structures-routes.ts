/**
 * Counters, hashes and lists over HTTP, next to /v1/keys for plain values.
 * Bodies and answers are JSON; a key holding another kind of value answers
 * 409 SHOAL_STORE_WRONG_TYPE, exactly as the library throws it.
 *
 *   POST   /v1/counters/:key/incr?by=N        -> { value }
 *   GET    /v1/hashes/:key                     -> { fields }      (404 when absent)
 *   GET    /v1/hashes/:key/fields/:field       -> the value       (404 when absent)
 *   PUT    /v1/hashes/:key         { f: v }    -> { added }
 *   DELETE /v1/hashes/:key/fields/:field       -> { removed }
 *   POST   /v1/lists/:key/push?end=left|right  [v, ...] -> { length }
 *   POST   /v1/lists/:key/pop?end=left|right   -> the value       (404 when empty)
 *   GET    /v1/lists/:key?start=0&stop=-1      -> { values, length }
 */
import { ShoalError } from '@shoal/protocol';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { validateKey } from '../store/validation.js';

type MaybeAsync<T> = T | Promise<T>;

/** The structure operations the routes need: a LocalCache, or a node's cluster-wide cache. */
export interface StructuresApi {
  incr(key: string, by?: number): MaybeAsync<number>;
  hset(key: string, fields: Record<string, unknown>): MaybeAsync<number>;
  hget(key: string, field: string): MaybeAsync<unknown>;
  hgetall(key: string): MaybeAsync<Record<string, unknown>>;
  hdel(key: string, ...fields: string[]): MaybeAsync<number>;
  lpush(key: string, ...values: unknown[]): MaybeAsync<number>;
  rpush(key: string, ...values: unknown[]): MaybeAsync<number>;
  lpop(key: string): MaybeAsync<unknown>;
  rpop(key: string): MaybeAsync<unknown>;
  lrange(key: string, start: number, stop: number): MaybeAsync<unknown[]>;
  llen(key: string): MaybeAsync<number>;
}

const name = { type: 'string', minLength: 1 } as const;
const keyOnly = { type: 'object', required: ['key'], properties: { key: name } } as const;
const keyAndField = { type: 'object', required: ['key', 'field'], properties: { key: name, field: name } } as const;
const endQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { end: { type: 'string', enum: ['left', 'right'], default: 'right' } },
} as const;

interface KeyParams {
  key: string;
}
interface FieldParams extends KeyParams {
  field: string;
}
type End = { end: 'left' | 'right' };

const notFound = (what: string) => new ShoalError('SHOAL_KEY_NOT_FOUND', what);
// a bare string would otherwise leave as text/plain
const json = (reply: FastifyReply, value: unknown) => reply.type('application/json').send(JSON.stringify(value));

export const structuresRoutes: FastifyPluginAsync<{ cache: () => StructuresApi; maxKeyBytes: number }> = async (
  app,
  { cache, maxKeyBytes },
) => {
  app.addHook('preHandler', async (request) => {
    validateKey((request.params as KeyParams).key, maxKeyBytes);
  });

  app.post<{ Params: KeyParams; Querystring: { by: number } }>(
    '/v1/counters/:key/incr',
    {
      schema: {
        summary: 'Add `by` (default 1, may be negative) to a counter; a missing key counts from 0',
        params: keyOnly,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { by: { type: 'integer', default: 1 } },
        },
      },
    },
    async (request) => ({ value: await cache().incr(request.params.key, request.query.by) }),
  );

  app.get<{ Params: KeyParams }>(
    '/v1/hashes/:key',
    { schema: { summary: 'Every field of a hash', params: keyOnly } },
    async (request) => {
      const fields = await cache().hgetall(request.params.key);
      if (Object.keys(fields).length === 0) throw notFound(`no hash ${request.params.key}`);
      return { fields };
    },
  );

  app.get<{ Params: FieldParams }>(
    '/v1/hashes/:key/fields/:field',
    { schema: { summary: 'One field of a hash', params: keyAndField } },
    async (request, reply) => {
      const value = await cache().hget(request.params.key, request.params.field);
      if (value === undefined) throw notFound(`no field ${request.params.field} in ${request.params.key}`);
      return json(reply, value);
    },
  );

  app.put<{ Params: KeyParams; Body: Record<string, unknown> }>(
    '/v1/hashes/:key',
    {
      schema: {
        summary: 'Set fields of a hash (the body is an object of field: value); answers how many are new',
        params: keyOnly,
        body: { type: 'object', minProperties: 1 },
      },
    },
    async (request) => ({ added: await cache().hset(request.params.key, request.body) }),
  );

  app.delete<{ Params: FieldParams }>(
    '/v1/hashes/:key/fields/:field',
    { schema: { summary: 'Remove one field of a hash', params: keyAndField } },
    async (request) => ({ removed: await cache().hdel(request.params.key, request.params.field) }),
  );

  app.post<{ Params: KeyParams; Querystring: End; Body: unknown[] }>(
    '/v1/lists/:key/push',
    {
      schema: {
        summary: 'Push the values of the body (a JSON array) at one end of a list; answers its length',
        params: keyOnly,
        querystring: endQuery,
        body: { type: 'array', minItems: 1, maxItems: 10_000 },
      },
    },
    async (request) => {
      const c = cache();
      const { key } = request.params;
      const length = await (request.query.end === 'left'
        ? c.lpush(key, ...request.body)
        : c.rpush(key, ...request.body));
      return { length };
    },
  );

  app.post<{ Params: KeyParams; Querystring: End }>(
    '/v1/lists/:key/pop',
    { schema: { summary: 'Take the value at one end of a list', params: keyOnly, querystring: endQuery } },
    async (request, reply) => {
      const c = cache();
      const { key } = request.params;
      const value = await (request.query.end === 'left' ? c.lpop(key) : c.rpop(key));
      if (value === undefined) throw notFound(`list ${key} is empty`);
      return json(reply, value);
    },
  );

  app.get<{ Params: KeyParams; Querystring: { start: number; stop: number } }>(
    '/v1/lists/:key',
    {
      schema: {
        summary: 'A range of a list (inclusive, negative indexes count from the end) and its length',
        params: keyOnly,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { start: { type: 'integer', default: 0 }, stop: { type: 'integer', default: -1 } },
        },
      },
    },
    async (request) => {
      const c = cache();
      const { key } = request.params;
      const [values, length] = await Promise.all([c.lrange(key, request.query.start, request.query.stop), c.llen(key)]);
      return { values, length };
    },
  );
};
