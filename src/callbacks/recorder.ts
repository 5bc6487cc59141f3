import type { AcceptedCallback } from '../workflows';

/** A callback is acknowledged only after `record` resolves. */
export interface CallbackRecorder {
  /** Resolves with the store's name once recorded (or already, under that id); else RecorderUnavailableError. */
  record(callback: AcceptedCallback): Promise<string>;
  /** Whether the recorder's first choice of store answers. */
  isReachable(): Promise<boolean>;
}

export class RecorderUnavailableError extends Error {
  override name = 'RecorderUnavailableError';
}
