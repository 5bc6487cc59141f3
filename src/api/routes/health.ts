import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { CallbackRecorder } from '../../callbacks/recorder';

export interface HealthRoutesOptions {
  /** Temporal answering makes the API ready; the database alone, degraded (outbox only). */
  recorder: Pick<CallbackRecorder, 'isReachable'>;
  isDatabaseReachable: () => Promise<boolean>;
}

const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'degraded', 'unavailable'] },
    temporal: { type: 'boolean' },
    database: { type: 'boolean' },
  },
} as const;

/** GET /healthz (liveness) and GET /readyz (readiness), for orchestrators. */
const healthRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: HealthRoutesOptions }> = async (
  app,
  { recorder, isDatabaseReachable },
) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: 200 while the process lives',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      } as const,
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary:
          'Readiness: 200 while callbacks can be recorded (degraded: only in the outbox, Temporal is away), 503 otherwise',
        response: { 200: readiness, 503: readiness },
      },
    },
    async (_request, reply) => {
      const [temporal, database] = await Promise.all([recorder.isReachable(), isDatabaseReachable()]);
      const status = temporal ? 'ready' : database ? 'degraded' : 'unavailable';
      return reply.code(status === 'unavailable' ? 503 : 200).send({ status, temporal, database });
    },
  );
};

export default healthRoutes;
