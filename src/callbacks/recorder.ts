import type { AcceptedCallback } from '../workflows';

/** A callback is acknowledged only after `record` resolves. */
export interface CallbackRecorder {
  /** Resolves with the store's name; rejects with one of the errors below, each saying what an answer may claim. */
  record(callback: AcceptedCallback): Promise<string>;
  /** Whether the recorder's first choice of store answers. */
  isReachable(): Promise<boolean>;
}

/** Not recorded, and nothing still in flight can record it: an error answer is true. */
export class RecorderUnavailableError extends Error {
  override name = 'RecorderUnavailableError';
}

/** Perhaps recorded, or perhaps later: neither a 2xx nor an error answer would be true. */
export class OutcomeUnknownError extends Error {
  override name = 'OutcomeUnknownError';
}

/** Its Idempotency-Key names a callback with other ids: this one is not recorded, and cannot be. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

/** The ids recorded under the callback's workflow id are its own, in its order, or it conflicts. */
export function ensureSameCallback({ workflowId, objectIds }: AcceptedCallback, recordedIds: number[]): void {
  if (recordedIds.length === objectIds.length && recordedIds.every((id, i) => id === objectIds[i])) return;
  throw new IdempotencyConflictError(
    `${workflowId} holds another callback (${recordedIds.length} ids), not this one (${objectIds.length} ids)`,
  );
}

/** A failed write is a refusal only when `surelyNotRecorded` says it cannot land later. */
export async function recordIn(
  store: string,
  write: Promise<unknown>,
  surelyNotRecorded: (error: unknown) => boolean,
): Promise<string> {
  try {
    await write;
    return store;
  } catch (error) {
    if (error instanceof IdempotencyConflictError) throw error;
    const message = `${store} did not record the callback: ${(error as Error).message}`;
    throw surelyNotRecorded(error)
      ? new RecorderUnavailableError(message, { cause: error })
      : new OutcomeUnknownError(message, { cause: error });
  }
}
