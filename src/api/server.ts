import { createServer } from 'node:http';
import bearerAuth from '@fastify/bearer-auth';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  CALLBACK_BODY_LIMIT_BYTES,
  callbackBodySchema,
  errorBodySchema,
  type CallbackBody,
} from './callback-schema';
import { installErrorReplies, type ErrorReply } from './error-replies';
import { installStrictJsonParser } from './json-body-parser';
import { RecorderUnavailableError, type SightingRecorder } from './sighting-recorder';

/** How long a client may take to send a whole request; a slow or stalled one is cut off then. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface ApiDependencies {
  recorder: SightingRecorder;
  isDatabaseReachable: () => Promise<boolean>;
  /** When set, callbacks must carry `Authorization: Bearer <token>`. */
  callbackToken?: string;
  requestTimeoutMs?: number;
  /** Request logs go here; none when unset (tests). */
  logger?: FastifyBaseLogger;
}

export function buildApi(dependencies: ApiDependencies): FastifyInstance {
  const { recorder, isDatabaseReachable, callbackToken, logger } = dependencies;
  const requestTimeout = dependencies.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: CALLBACK_BODY_LIMIT_BYTES,
    // Node enforces header and request timeouts only when it sweeps its connections, every 30 s
    // by default; sweeping often is what actually stops slow clients from piling up.
    serverFactory: (handler) =>
      createServer(
        { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) },
        handler,
      ),
    connectionTimeout: requestTimeout,
    keepAliveTimeout: 10_000,
    // Fastify's default coerces types ("7" → 7, null → 0); the contract wants such ids rejected.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });
  // Only JSON is a callback; without this Fastify would parse text/plain bodies too.
  app.removeContentTypeParser('text/plain');
  installStrictJsonParser(app);
  installErrorReplies(app);

  app.register(async (callbacks) => {
    if (callbackToken) {
      await callbacks.register(bearerAuth, {
        keys: [callbackToken],
        // Checked before the body is read: an unauthenticated callback costs next to nothing.
        addHook: 'onRequest',
        errorResponse: (error): ErrorReply => ({ error: 'unauthorized', message: error.message }),
      });
    }
    callbacks.post<{ Body: CallbackBody }>(
      '/callback',
      {
        schema: {
          body: callbackBodySchema,
          response: {
            202: { type: 'object', properties: { accepted: { type: 'integer' } } },
            '4xx': errorBodySchema,
            503: errorBodySchema,
          },
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
            return reply
              .code(503)
              .send({ error: 'unavailable', message: 'the callback could not be recorded durably; nothing in it counts as accepted' });
          }
        }
        return reply.code(202).send({ accepted: objectIds.length });
      },
    );
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const [temporal, database] = await Promise.all([recorder.isReachable(), isDatabaseReachable()]);
    const ready = temporal && database;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', temporal, database });
  });

  return app;
}
