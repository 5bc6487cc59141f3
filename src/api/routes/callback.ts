import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { callbackWorkflowId } from '../../callbacks/workflow-start';
import {
  IdempotencyConflictError,
  OutcomeUnknownError,
  RecorderUnavailableError,
  type CallbackRecorder,
} from '../../callbacks/recorder';
import { callbackRouteSchema, KEY_REUSED, UNAVAILABLE } from '../callback-schema';
import callbackAuth from '../plugins/callback-auth';

export interface CallbackRoutesOptions {
  recorder: CallbackRecorder;
  /** When set, callbacks must carry `Authorization: Bearer <token>`. */
  callbackToken?: string;
}

/** POST /callback, and 405 for the other methods on it. */
const callbackRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: CallbackRoutesOptions }> = async (
  app,
  { recorder, callbackToken },
) => {
  await app.register(callbackAuth, { token: callbackToken });
  app.post(
    '/callback',
    {
      schema: {
        ...callbackRouteSchema,
        security: callbackToken ? [{ callbackToken: [] }] : [],
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
          if (error instanceof OutcomeUnknownError) {
            // Perhaps recorded: a 2xx or an error answer could be false, so none, as on the sender's timeout.
            request.log.warn(
              { err: error, ids: objectIds.length },
              'callback perhaps recorded; closing without an answer',
            );
            reply.hijack();
            reply.raw.destroy();
            return reply;
          }
          if (error instanceof IdempotencyConflictError) {
            request.log.warn(
              { err: error, ids: objectIds.length },
              'callback not recorded: its Idempotency-Key is taken',
            );
            request.errorCode = KEY_REUSED.error;
            return reply.code(422).send(KEY_REUSED);
          }
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
