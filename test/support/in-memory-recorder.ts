import { RecorderUnavailableError, type AcceptedCallback, type CallbackRecorder } from '../../src/api/callback-recorder';

/** Stands in for Temporal in API unit tests; the integration tests use the real server. */
export class InMemoryRecorder implements CallbackRecorder {
  calls: AcceptedCallback[] = [];
  available = true;

  async record(callback: AcceptedCallback): Promise<void> {
    if (!this.available) throw new RecorderUnavailableError('Temporal is away');
    this.calls.push(callback);
  }

  async isReachable(): Promise<boolean> {
    return this.available;
  }
}
