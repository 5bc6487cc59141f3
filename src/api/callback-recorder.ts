import { randomUUID } from 'node:crypto';

/** A callback that passed validation, ready to be recorded under its own workflow id. */
export interface AcceptedCallback {
  /** The callback workflow's id: random, or derived from the sender's Idempotency-Key. */
  workflowId: string;
  /** Distinct ids, in the order the callback listed them. */
  objectIds: number[];
  receivedAtMs: number;
}

/** Where the API records callbacks durably; a callback is acknowledged only after `record` resolves. */
export interface CallbackRecorder {
  /**
   * Resolves once the whole callback is durably recorded, or was already recorded under the same
   * workflow id; rejects with RecorderUnavailableError, having recorded nothing, otherwise.
   */
  record(callback: AcceptedCallback): Promise<void>;
  isReachable(): Promise<boolean>;
}

export class RecorderUnavailableError extends Error {
  override name = 'RecorderUnavailableError';
}

/**
 * Idempotency keys become part of a workflow id, which the Web UI shows and a query may quote:
 * printable ASCII without spaces or quotes keeps both plain.
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[!#-&(-~]{1,200}$';

export const callbackWorkflowId = (idempotencyKey?: string): string =>
  idempotencyKey === undefined ? `callback-${randomUUID()}` : `callback-key-${idempotencyKey}`;
