/** Where the API records sightings durably; the callback is acknowledged only after `record` resolves. */
export interface SightingRecorder {
  /** Resolves once every id is durably recorded; rejects with RecorderUnavailableError otherwise. */
  record(objectIds: readonly number[], receivedAtMs: number): Promise<void>;
  isReachable(): Promise<boolean>;
}

export class RecorderUnavailableError extends Error {
  override name = 'RecorderUnavailableError';
}

/** The callback was turned away before anything was recorded: too much is in flight already. */
export class RecorderOverloadedError extends RecorderUnavailableError {
  override name = 'RecorderOverloadedError';
}
