/** Where the API records sightings durably; the callback is acknowledged only after `record` resolves. */
export interface SightingRecorder {
  /** Resolves once every id is durably recorded; rejects with RecorderUnavailableError otherwise. */
  record(objectIds: readonly number[], receivedAtMs: number): Promise<void>;
  isReachable(): Promise<boolean>;
}

export class RecorderUnavailableError extends Error {
  override name = 'RecorderUnavailableError';
}
