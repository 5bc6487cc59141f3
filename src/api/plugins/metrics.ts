import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export class ApiMetrics {
  readonly registry = new Registry();

  readonly callbacks = new Counter({
    name: 'presence_callbacks_total',
    help: 'Callbacks answered, by outcome (accepted, rejected, unavailable) and reason (the error code, e.g. overloaded)',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly callbacksRecorded = new Counter({
    name: 'presence_callbacks_recorded_total',
    help: 'Callbacks durably recorded, by store: temporal, or outbox while Temporal is away',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });

  readonly idsRecorded = new Counter({
    name: 'presence_callback_ids_recorded_total',
    help: 'Distinct object ids in recorded callbacks',
    registers: [this.registry],
  });

  readonly callbackDuration = new Histogram({
    name: 'presence_callback_duration_seconds',
    help: 'Time from receiving a callback to answering it',
    labelNames: ['outcome'] as const,
    // The sender gives up after 1 s; the target is 100 ms.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

// A hook on the whole app, not in the route, also counts the answers Fastify gives before the handler.
export default fp(
  async (app) => {
    const metrics = new ApiMetrics();
    app.decorate('metrics', metrics);
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
    app.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.url !== '/callback') return;
      const outcome = reply.statusCode < 300 ? 'accepted' : reply.statusCode === 503 ? 'unavailable' : 'rejected';
      metrics.callbacks.inc({
        outcome,
        reason: outcome === 'accepted' ? '' : request.errorCode || `http_${reply.statusCode}`,
      });
      metrics.callbackDuration.observe({ outcome }, reply.elapsedTime / 1000);
    });
  },
  { name: 'metrics', dependencies: ['error-replies'] },
);
