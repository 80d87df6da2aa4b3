/**
 * The HTTP API of a node (fastify), versioned under /v1. Every error leaves as
 * JSON `{ code, message, details? }` with the status the error registry gives
 * its code, including fastify's own errors (bad body, body too large, no route),
 * so HTTP clients in any language see the same SHOAL_* codes as library users.
 */
import swagger from '@fastify/swagger';
import { isShoalError, ShoalError } from '@shoal/protocol';
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { MessageLog } from '../log/message-log.js';
import type { ShoalNode } from '../node.js';
import { installAuth } from './auth.js';
import { limitConnectionsPerIp } from './connection-limit.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { type KeyValueApi, keysRoutes } from './keys-routes.js';
import { nodeRoutes } from './node-routes.js';
import type { Readiness } from './readiness.js';
import { type StructuresApi, structuresRoutes } from './structures-routes.js';
import { topicsRoutes } from './topics-routes.js';

/** What the HTTP server serves and how. */
export interface HttpServerOptions {
  /** What /v1/keys reads and writes. */
  cache: KeyValueApi;
  /** Longest key, in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Body of /v1/stats. */
  stats: () => unknown;
  /** Body of /v1/cluster (absent: no such route). */
  cluster?: () => unknown;
  /** The node's message log, for /v1/topics (absent: no such routes). */
  log?: () => MessageLog;
  /** Prometheus text for /metrics (absent: no such route). */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  logger?: Logger;
  /** Largest request body in bytes (values above it get 413). */
  maxBodyBytes: number;
  /** Reported by /health and /v1/node. */
  version: string;
  /** Counters, hashes and lists (absent: the node's cache when `node` is given, else no such routes). */
  structures?: () => StructuresApi;
  /** Body of /ready (absent: no such route). */
  ready?: () => Readiness;
  /** The node, for /v1/node, /v1/dashboard and the admin routes (absent: no such routes). */
  node?: () => ShoalNode;
  /** Bearer token every /v1 route and /metrics needs (absent: open). */
  token?: string | undefined;
  /** Bearer token the admin routes need (absent: the client token is enough). */
  adminToken?: string | undefined;
  /** Serve https with this certificate and key (absent: http). */
  tls?: Readonly<{ cert: string | Buffer; key: string | Buffer }> | undefined;
  /** Most simultaneous connections from one IP address (absent: unlimited). */
  maxConnectionsPerIp?: number;
}

const readySchema = {
  summary: 'Readiness: 200 once joined and while not leaving or handing partitions away, else 503 with a reason',
  response: {
    200: {
      type: 'object',
      properties: {
        ready: { type: 'boolean' },
        members: { type: 'integer' },
        syncing: { type: 'integer' },
        handingOff: { type: 'integer' },
      },
    },
    503: { type: 'object', additionalProperties: true },
  },
} as const;

function toShoalError(err: FastifyError): ShoalError {
  if (isShoalError(err)) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ShoalError('SHOAL_VALUE_TOO_LARGE', err.message);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ShoalError('SHOAL_KEY_INVALID', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ShoalError('SHOAL_HTTP_MEDIA_TYPE', err.message);
    default:
      if (err.validation !== undefined || (err.statusCode !== undefined && err.statusCode < 500)) {
        return new ShoalError('SHOAL_ARGUMENT_INVALID', err.message);
      }
      throw err;
  }
}

/** Builds the fastify app (not listening yet: the caller listens, or shares it with WebSocket endpoints). */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.tls === undefined ? {} : { https: { cert: options.tls.cert, key: options.tls.key } }),
    loggerInstance: options.logger,
    bodyLimit: options.maxBodyBytes,
    // keys reach 1024 UTF-8 bytes by default, up to 3x that percent-encoded; the cache judges them
    routerOptions: { maxParamLength: 8192 },
    // unknown query parameters are an error, not silently dropped
    ajv: { customOptions: { removeAdditional: false } },
    // per-request log lines would cost more than the cache operations they describe
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  if (options.maxConnectionsPerIp !== undefined) {
    limitConnectionsPerIp(app.server, options.maxConnectionsPerIp, {
      tls: options.tls !== undefined,
      onRefuse: (remote, open) =>
        app.log.warn({ code: 'SHOAL_HTTP_TOO_MANY_CONNECTIONS', remote, open }, 'connection refused: per-IP limit'),
    });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: 'Shoal node HTTP API', version: options.version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  installAuth(app, { token: options.token, adminToken: options.adminToken });
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: options.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );
  app.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: options.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let shoal: ShoalError;
    try {
      shoal = toShoalError(err);
    } catch {
      request.log.error({ err }, 'unexpected error');
      return reply.status(500).send({ code: 'SHOAL_INTERNAL', message: 'internal error' });
    }
    if (shoal.status >= 500) request.log.error({ err }, shoal.message);
    // an oversized body is worth a line (a misconfigured client, or someone probing the limits)
    else if (shoal.status === 413) {
      request.log.warn(
        { code: shoal.code, method: request.method, path: request.url.split('?', 1)[0], remote: request.ip },
        'HTTP request refused: too large',
      );
    }
    return reply.status(shoal.status).send(shoal.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new ShoalError('SHOAL_HTTP_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url}`);
    return reply.status(err.status).send(err.toJSON());
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/health', { schema: { summary: 'Liveness: 200 while the process serves' } }, async () => ({
    status: 'ok',
    version: options.version,
  }));
  const ready = options.ready;
  if (ready !== undefined) {
    app.get('/ready', { schema: readySchema }, async (_request, reply) => {
      const r = ready();
      if (r.ready) return r;
      const err = new ShoalError('SHOAL_NODE_NOT_READY', `not ready: ${r.reason}`, { ...r });
      return reply.status(err.status as 503).send(err.toJSON());
    });
  }
  app.get('/v1/stats', { schema: { summary: 'This node store counters and cluster-wide totals' } }, async () =>
    options.stats(),
  );
  const cluster = options.cluster;
  if (cluster !== undefined) {
    app.get(
      '/v1/cluster',
      { schema: { summary: 'Members with state, partition table and owners, rebalancing status' } },
      async () => cluster(),
    );
  }
  const node = options.node;
  if (node !== undefined) await app.register(nodeRoutes, { node });
  await app.register(dashboardRoutes);
  await app.register(keysRoutes, { prefix: '/v1/keys', cache: options.cache, maxKeyBytes: options.maxKeyBytes });
  const structures = options.structures ?? (node === undefined ? undefined : () => node().cache);
  if (structures !== undefined) {
    await app.register(structuresRoutes, { cache: structures, maxKeyBytes: options.maxKeyBytes });
  }
  const metrics = options.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', { schema: { summary: 'Prometheus metrics of this node' } }, async (_request, reply) => {
      const { contentType, body } = await metrics();
      return reply.type(contentType).send(body);
    });
  }
  const log = options.log;
  if (log !== undefined) await app.register(topicsRoutes, { prefix: '/v1/topics', log });
  return app;
}
