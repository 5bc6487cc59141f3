import type { FastifyPluginAsync } from 'fastify';

/** GET /metrics, for Prometheus. */
const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics()),
  );
};

export default metricsRoutes;
