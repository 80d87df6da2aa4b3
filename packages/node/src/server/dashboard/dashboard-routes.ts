/**
 * Serves the dashboard: the page at `/` and its script at `/dashboard.js`.
 * Both are static strings compiled into the package; the data comes from the
 * JSON API, which carries the token checks.
 */
import type { FastifyPluginAsync } from 'fastify';
import { DASHBOARD_HTML } from './page-html.js';
import { DASHBOARD_SCRIPT } from './page-script.js';

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(DASHBOARD_HTML),
  );
  app.get('/dashboard.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(DASHBOARD_SCRIPT),
  );
};
