/** Largest id the contract allows: the top of PostgreSQL's `integer`. */
export const MAX_OBJECT_ID = 2_147_483_647;
/** The sender posts up to 200 ids; this leaves room for bursts while bounding one request's work. */
export const MAX_IDS_PER_CALLBACK = 10_000;
/** Room for MAX_IDS_PER_CALLBACK ids of ten digits with separators and white space. */
export const CALLBACK_BODY_LIMIT_BYTES = 256 * 1024;

export interface CallbackBody {
  object_ids: number[];
}

export const callbackBodySchema = {
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

export const errorBodySchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;
