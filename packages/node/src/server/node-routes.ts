/**
 * Routes about the node itself: its summary (`GET /v1/node`), the cluster view
 * the dashboard polls (`GET /v1/dashboard`) and the admin route that makes the
 * node leave the cluster gracefully (`POST /v1/cluster/leave`, guarded by the
 * admin token when one is set).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ShoalNode } from '../node.js';
import { dashboardSummary, nodeSummary, storeOps } from './node-summary.js';
import { OpsHistory } from './ops-history.js';

const looseObject = { type: 'object', additionalProperties: true } as const;

export const nodeRoutes: FastifyPluginAsync<{ node: () => ShoalNode }> = async (app, { node }) => {
  const history = new OpsHistory(() => {
    try {
      return storeOps(node());
    } catch {
      return undefined; // the node is still starting
    }
  });
  history.start();
  app.addHook('onClose', async () => history.stop());

  app.get(
    '/v1/node',
    {
      schema: {
        summary: "This node's memory, store counters, hit ratio, gossip health, partitions and led topic partitions",
        response: { 200: looseObject },
      },
    },
    async () => nodeSummary(node(), history),
  );

  app.get(
    '/v1/dashboard',
    {
      schema: {
        summary: 'Members, partition owners and every live member summary, as the dashboard shows them',
        response: { 200: looseObject },
      },
    },
    async (request) => dashboardSummary(node(), request.headers.authorization, history),
  );

  app.post(
    '/v1/cluster/leave',
    {
      config: { admin: true },
      schema: {
        summary: 'Leave the cluster gracefully: partitions are handed off, then the node stops (admin)',
        response: { 202: looseObject },
      },
    },
    async (request, reply) => {
      const n = node();
      request.log.info({ node: n.id, remote: request.socket.remoteAddress }, 'leave requested over HTTP');
      // answered first: the leave ends by closing this very server
      reply.raw.once('finish', () => {
        n.close().catch((err: unknown) => request.log.error({ err }, 'leave failed'));
      });
      return reply.status(202).send({ leaving: true, id: n.id });
    },
  );
};
