import { createServer } from 'node:http';
import bearerAuth from '@fastify/bearer-auth';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { CALLBACK_BODY_LIMIT_BYTES, callbackBodySchema, errorBodySchema, type CallbackBody } from './callback-schema';
import { installErrorReplies, type ErrorReply } from './error-replies';
import { installStrictJsonParser } from './json-body-parser';
import { ApiMetrics } from './metrics';
import { callbackWorkflowId, IDEMPOTENCY_KEY_PATTERN } from '../temporal/callback-workflow-start';
import { RecorderUnavailableError, type CallbackRecorder } from './callback-recorder';

/** How long a client may take to send a whole request; a slow or stalled one is cut off then. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface ApiDependencies {
  recorder: CallbackRecorder;
  isDatabaseReachable: () => Promise<boolean>;
  /** When set, callbacks must carry `Authorization: Bearer <token>`. */
  callbackToken?: string;
  requestTimeoutMs?: number;
  /** Request logs go here; none when unset (tests). */
  logger?: FastifyBaseLogger;
}

/** An error answer as the OpenAPI document shows it: when it happens, and an example body. */
const errorReply = (description: string, error: string, message: string) => ({
  ...errorBodySchema,
  description,
  example: { error, message },
});

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
        {
          requestTimeout,
          headersTimeout: requestTimeout,
          connectionsCheckingInterval: Math.min(1_000, requestTimeout),
        },
        handler,
      ),
    connectionTimeout: requestTimeout,
    keepAliveTimeout: 10_000,
    // Fastify's default coerces types ("7" → 7, null → 0); the contract wants such ids rejected.
    // `example` is for the OpenAPI document; validation ignores it.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, keywords: ['example'] } },
  });
  // Only JSON is a callback; without this Fastify would parse text/plain bodies too.
  app.removeContentTypeParser('text/plain');
  installStrictJsonParser(app);
  installErrorReplies(app);
  const metrics = new ApiMetrics();
  metrics.install(app);
  // The OpenAPI description is generated from the same schemas that validate the requests.
  app.register(swagger, {
    openapi: {
      info: {
        title: 'Presence tracker',
        version: '1',
        description: 'Callbacks listing object ids; online objects are kept with the time they were last seen.',
      },
      components: {
        securitySchemes: {
          callbackToken: { type: 'http', scheme: 'bearer', description: 'Only when CALLBACK_TOKEN is set' },
        },
      },
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  app.register(async (callbacks) => {
    if (callbackToken) {
      await callbacks.register(bearerAuth, {
        keys: [callbackToken],
        // Checked before the body is read: an unauthenticated callback costs next to nothing.
        addHook: 'onRequest',
        errorResponse: (error): ErrorReply => ({ error: 'unauthorized', message: error.message }),
      });
    }
    callbacks.post<{ Body: CallbackBody; Headers: { 'idempotency-key'?: string } }>(
      '/callback',
      {
        schema: {
          summary: 'Record a callback: every id gets a status check',
          description:
            'Answers 202 once the callback (all its distinct ids) is durably recorded: in Temporal, or in the PostgreSQL outbox while Temporal is away. Any other answer means nothing of it was recorded.',
          security: callbackToken ? [{ callbackToken: [] }] : [],
          headers: {
            type: 'object',
            properties: {
              'idempotency-key': {
                type: 'string',
                pattern: IDEMPOTENCY_KEY_PATTERN,
                description:
                  'Records the callback at most once per key: a repeat is answered 202 and records nothing more',
              },
            },
          },
          body: callbackBodySchema,
          response: {
            202: {
              description:
                'Recorded: the whole callback is durable (in Temporal, or in the outbox while Temporal is away)',
              type: 'object',
              required: ['accepted'],
              properties: { accepted: { type: 'integer', description: 'distinct ids recorded' } },
              example: { accepted: 3 },
            },
            400: errorReply(
              'Not JSON, no `object_ids` array, an id that is not an integer in [0, 2147483647], or a bad `Idempotency-Key`; nothing recorded',
              'invalid_body',
              'body/object_ids/0 must be integer',
            ),
            401: errorReply(
              'CALLBACK_TOKEN is set and the bearer token is missing or wrong; nothing recorded',
              'unauthorized',
              'authorization header is missing',
            ),
            413: errorReply(
              'The body is over 256 KiB; nothing recorded',
              'body_too_large',
              'Request body is too large',
            ),
            415: errorReply(
              'Not `application/json`; nothing recorded',
              'unsupported_media_type',
              'Unsupported Media Type: text/plain',
            ),
            503: errorReply(
              'Neither Temporal nor the outbox could record the callback in time; nothing recorded, the sender may retry',
              'unavailable',
              'the callback could not be recorded durably; nothing in it was recorded',
            ),
          },
        },
      },
      async (request, reply) => {
        const receivedAtMs = Date.now();
        const objectIds = [...new Set(request.body.object_ids)];
        if (objectIds.length > 0) {
          const workflowId = callbackWorkflowId(request.headers['idempotency-key']);
          let store: string;
          try {
            store = await recorder.record({ workflowId, objectIds, receivedAtMs });
          } catch (error) {
            if (!(error instanceof RecorderUnavailableError)) throw error;
            request.log.warn({ err: error, ids: objectIds.length }, 'callback not recorded');
            request.errorCode = 'unavailable';
            return reply.code(503).send({
              error: 'unavailable',
              message: 'the callback could not be recorded durably; nothing in it was recorded',
            });
          }
          metrics.callbacksRecorded.inc({ store });
          metrics.idsRecorded.inc(objectIds.length);
        }
        return reply.code(202).send({ accepted: objectIds.length });
      },
    );
    callbacks.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'],
      url: '/callback',
      schema: { hide: true },
      handler: async (request, reply) => {
        request.errorCode = 'method_not_allowed';
        return reply
          .code(405)
          .header('allow', 'POST')
          .send({ error: 'method_not_allowed', message: `${request.method} is not allowed on /callback; use POST` });
      },
    });
  });

  // Probes come every few seconds from every orchestrator: their request logs are debug.
  app.register(
    async (probes) => {
      probes.get(
        '/healthz',
        {
          schema: {
            summary: 'Liveness: 200 while the process lives',
            response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
          },
        },
        async () => ({ status: 'ok' }),
      );
      const readiness = {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['ready', 'degraded', 'unavailable'] },
          temporal: { type: 'boolean' },
          database: { type: 'boolean' },
        },
      } as const;
      probes.get(
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
    },
    { logLevel: 'debug' },
  );

  return app;
}
