import { RecorderUnavailableError, type CallbackRecorder } from '../../src/callbacks/recorder';
import type { AcceptedCallback } from '../../src/workflows';

/** Stands in for Temporal in API unit tests; the integration tests use the real server. */
export class InMemoryRecorder implements CallbackRecorder {
  calls: AcceptedCallback[] = [];
  available = true;

  async record(callback: AcceptedCallback): Promise<string> {
    if (!this.available) throw new RecorderUnavailableError('Temporal is away');
    this.calls.push(callback);
    return 'memory';
  }

  async isReachable(): Promise<boolean> {
    return this.available;
  }
}
