import type { FastifyPluginAsync } from 'fastify';

/** GET /metrics: Prometheus scrapes it every few seconds, so its request logs are debug. */
const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', { schema: { hide: true }, logLevel: 'debug' }, async (_request, reply) =>
    reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics()),
  );
};

export default metricsRoutes;
