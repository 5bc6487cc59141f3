import type { AcceptedCallback } from '../workflows';

/** Where the API records callbacks durably; a callback is acknowledged only after `record` resolves. */
export interface CallbackRecorder {
  /**
   * Resolves, with the name of the store that took it, once the whole callback is durably
   * recorded (or was already, under the same workflow id); rejects with RecorderUnavailableError
   * otherwise.
   */
  record(callback: AcceptedCallback): Promise<string>;
  /** Whether the recorder's first choice of store answers. */
  isReachable(): Promise<boolean>;
}

export class RecorderUnavailableError extends Error {
  override name = 'RecorderUnavailableError';
}
