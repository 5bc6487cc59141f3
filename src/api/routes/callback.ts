import type { FastifyPluginAsync } from 'fastify';
import { callbackWorkflowId, IDEMPOTENCY_KEY_PATTERN } from '../../temporal/callback-workflow-start';
import { RecorderUnavailableError, type CallbackRecorder } from '../callback-recorder';
import { callbackBodySchema, errorBodySchema, type CallbackBody } from '../callback-schema';
import callbackAuth from '../plugins/callback-auth';

export interface CallbackRoutesOptions {
  recorder: CallbackRecorder;
  /** When set, callbacks must carry `Authorization: Bearer <token>`. */
  callbackToken?: string;
}

/** An error answer as the OpenAPI document shows it: when it happens, and an example body. */
const errorReply = (description: string, error: string, message: string) => ({
  ...errorBodySchema,
  description,
  example: { error, message },
});

/** The 503 body: the one answer that says nothing of the callback was kept. */
const UNAVAILABLE = {
  error: 'unavailable',
  message: 'the callback could not be recorded durably; nothing in it was recorded',
} as const;

/** POST /callback, and 405 for the other methods on it. */
const callbackRoutes: FastifyPluginAsync<CallbackRoutesOptions> = async (app, { recorder, callbackToken }) => {
  await app.register(callbackAuth, { token: callbackToken });
  app.post<{ Body: CallbackBody; Headers: { 'idempotency-key'?: string } }>(
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
          413: errorReply('The body is over 256 KiB; nothing recorded', 'body_too_large', 'Request body is too large'),
          415: errorReply(
            'Not `application/json`; nothing recorded',
            'unsupported_media_type',
            'Unsupported Media Type: text/plain',
          ),
          503: errorReply(
            'Neither Temporal nor the outbox could record the callback in time; nothing recorded, the sender may retry',
            UNAVAILABLE.error,
            UNAVAILABLE.message,
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
          request.errorCode = UNAVAILABLE.error;
          return reply.code(503).send(UNAVAILABLE);
        }
        app.metrics.callbacksRecorded.inc({ store });
        app.metrics.idsRecorded.inc(objectIds.length);
      }
      return reply.code(202).send({ accepted: objectIds.length });
    },
  );
  app.route({
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
};

export default callbackRoutes;
