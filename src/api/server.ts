import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  CALLBACK_BODY_LIMIT_BYTES,
  callbackBodySchema,
  errorBodySchema,
  type CallbackBody,
} from './callback-schema';
import { installErrorReplies } from './error-replies';
import { RecorderUnavailableError, type SightingRecorder } from './sighting-recorder';

export interface ApiDependencies {
  recorder: SightingRecorder;
  isDatabaseReachable: () => Promise<boolean>;
  /** Request logs go here; none when unset (tests). */
  logger?: FastifyBaseLogger;
}

export function buildApi({ recorder, isDatabaseReachable, logger }: ApiDependencies): FastifyInstance {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: CALLBACK_BODY_LIMIT_BYTES,
    // A slow or stalled client must not hold a connection for long.
    connectionTimeout: 10_000,
    requestTimeout: 10_000,
    keepAliveTimeout: 10_000,
    // Fastify's default coerces types ("7" → 7, null → 0); the contract wants such ids rejected.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });
  // Only JSON is a callback; without this Fastify would parse text/plain bodies too.
  app.removeContentTypeParser('text/plain');
  installErrorReplies(app);

  app.post<{ Body: CallbackBody }>(
    '/callback',
    {
      schema: {
        body: callbackBodySchema,
        response: { 202: { type: 'object', properties: { accepted: { type: 'integer' } } }, '4xx': errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      const receivedAtMs = Date.now();
      const objectIds = [...new Set(request.body.object_ids)];
      if (objectIds.length > 0) {
        try {
          await recorder.record(objectIds, receivedAtMs);
        } catch (error) {
          if (!(error instanceof RecorderUnavailableError)) throw error;
          request.log.warn({ err: error, ids: objectIds.length }, 'callback not recorded');
          return reply.code(503).send({ error: 'unavailable', message: 'the callback could not be recorded; nothing was accepted for certain' });
        }
      }
      return reply.code(202).send({ accepted: objectIds.length });
    },
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const [temporal, database] = await Promise.all([recorder.isReachable(), isDatabaseReachable()]);
    const ready = temporal && database;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', temporal, database });
  });

  return app;
}
