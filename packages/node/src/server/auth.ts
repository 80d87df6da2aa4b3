/**
 * Bearer-token checks of the node's HTTP API (and, through `verifyBearer`, of
 * the WebSocket client endpoint). A client `token` guards every /v1 route and
 * /metrics; an `adminToken` guards the cluster-changing routes (those whose
 * route config says `admin: true`). Refusals are JSON SHOAL_* errors plus one
 * warn log line, never a crash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ShoalError } from '@shoal/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths served without a token: liveness and readiness probes, the page shell and the API description. */
const OPEN_PATHS = new Set(['/health', '/ready', '/', '/dashboard.js', '/openapi.json']);

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * True when `header` carries `Bearer <token>`, or when no `token` is configured
 * (an open node). Compares SHA-256 digests in constant time, so neither the
 * token's content nor its length leaks through timing.
 */
export function verifyBearer(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const presented = bearerOf(header);
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(token));
}

/** Tokens an HTTP app enforces. */
export interface HttpAuthOptions {
  /** Needed on every /v1 route and /metrics. Undefined: open. */
  token?: string | undefined;
  /** Needed on admin routes. Undefined: the client token is enough there too. */
  adminToken?: string | undefined;
}

/** Why a request is refused, or undefined when it may pass. */
export function refusal(
  path: string,
  admin: boolean,
  header: string | undefined,
  options: HttpAuthOptions,
): ShoalError | undefined {
  if (OPEN_PATHS.has(path)) return undefined;
  const { token, adminToken } = options;
  if (token === undefined && adminToken === undefined) return undefined;
  if (admin && adminToken !== undefined) {
    if (verifyBearer(header, adminToken)) return undefined;
    if (bearerOf(header) === undefined)
      return new ShoalError('SHOAL_AUTH_REQUIRED', 'this route needs the admin token');
    return verifyBearer(header, token)
      ? new ShoalError('SHOAL_AUTH_FORBIDDEN', 'this route needs the admin token, not the client token')
      : new ShoalError('SHOAL_AUTH_FAILED', 'wrong bearer token');
  }
  // the admin token is a superset of the client token
  if (token === undefined || verifyBearer(header, token)) return undefined;
  if (adminToken !== undefined && verifyBearer(header, adminToken)) return undefined;
  if (bearerOf(header) === undefined) {
    return new ShoalError('SHOAL_AUTH_REQUIRED', 'send Authorization: Bearer <token>');
  }
  return new ShoalError('SHOAL_AUTH_FAILED', 'wrong bearer token');
}

/** Adds the token check in front of every route of `app` (an onRequest hook: nothing is parsed before it). */
export function installAuth(app: FastifyInstance, options: HttpAuthOptions): void {
  if (options.token === undefined && options.adminToken === undefined) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0] as string;
    const admin = (request.routeOptions.config as { admin?: boolean } | undefined)?.admin === true;
    const err = refusal(path, admin, request.headers.authorization, options);
    if (err === undefined) return;
    request.log.warn(
      { code: err.code, method: request.method, path, remote: request.socket.remoteAddress },
      'HTTP request refused',
    );
    reply.header('www-authenticate', 'Bearer realm="shoal"');
    return reply.status(err.status).send(err.toJSON());
  });
}
