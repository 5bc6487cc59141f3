import type { AcceptedCallback } from '../workflows';

/**
 * A callback is acknowledged only after `record` resolves, and refused only after
 * RecorderUnavailableError or IdempotencyConflictError.
 */
export interface CallbackRecorder {
  /**
   * Resolves with the store's name once recorded (or already, under that id, with the same ids).
   * Rejects with RecorderUnavailableError when no store has it and none can record it later, with
   * IdempotencyConflictError when its workflow id holds another callback and no store can record it
   * later, or with OutcomeUnknownError when one may have it, or may still record it.
   */
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

/**
 * The callback's workflow id holds a callback with other ids: its Idempotency-Key was used for another
 * body. The store did not record this one, and cannot under that id.
 */
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

/**
 * Resolves with `store` once `write` has recorded the callback. A failure becomes
 * RecorderUnavailableError only when `surelyNotRecorded` says nothing of the write can land later;
 * an IdempotencyConflictError stays as it is.
 */
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
