import { IDEMPOTENCY_KEY_PATTERN } from '../callbacks/workflow-start';

/** The top of PostgreSQL's `integer`. */
export const MAX_OBJECT_ID = 2_147_483_647;
/** The sender posts up to 200 ids; this bounds one request's work. */
export const MAX_IDS_PER_CALLBACK = 10_000;
/** Room for MAX_IDS_PER_CALLBACK ten-digit ids with separators. */
export const CALLBACK_BODY_LIMIT_BYTES = 256 * 1024;

const callbackBodySchema = {
  type: 'object',
  required: ['object_ids'],
  example: { object_ids: [1, 2, 3] },
  properties: {
    object_ids: {
      type: 'array',
      maxItems: MAX_IDS_PER_CALLBACK,
      items: { type: 'integer', minimum: 0, maximum: MAX_OBJECT_ID },
    },
  },
} as const;

const errorBodySchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

const errorReply = (description: string, error: string, message: string) => ({
  ...errorBodySchema,
  description,
  example: { error, message },
});

export const UNAVAILABLE = {
  error: 'unavailable',
  message: 'the callback could not be recorded durably; nothing in it was recorded',
} as const;

export const KEY_REUSED = {
  error: 'idempotency_key_reused',
  message: 'the Idempotency-Key names a callback with other object_ids; nothing in this one was recorded',
} as const;

// `as const` so the type provider derives the handler's request and reply types from it.
export const callbackRouteSchema = {
  summary: 'Record a callback: every id gets a status check',
  description:
    'Answers 202 once the callback (all its distinct ids) is durably recorded: in Temporal, or in the PostgreSQL outbox while Temporal is away. Any other answer means nothing of it was recorded.',
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': {
        type: 'string',
        pattern: IDEMPOTENCY_KEY_PATTERN,
        description:
          'Records the callback at most once per key: a repeat with the same object_ids is answered 202 and records nothing more; one with other object_ids is answered 422',
      },
    },
  },
  body: callbackBodySchema,
  response: {
    202: {
      description: 'Recorded: the whole callback is durable (in Temporal, or in the outbox while Temporal is away)',
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
    422: errorReply(
      'The `Idempotency-Key` was used for a callback with other `object_ids` (another order counts as other); nothing recorded',
      KEY_REUSED.error,
      KEY_REUSED.message,
    ),
    503: errorReply(
      'Neither Temporal nor the outbox could record the callback in time; nothing recorded, the sender may retry',
      UNAVAILABLE.error,
      UNAVAILABLE.message,
    ),
  },
} as const;
