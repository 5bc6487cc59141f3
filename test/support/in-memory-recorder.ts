import { ensureSameCallback, RecorderUnavailableError, type CallbackRecorder } from '../../src/callbacks/recorder';
import type { AcceptedCallback } from '../../src/workflows';

/** Stands in for Temporal in API unit tests; the integration tests use the real server. */
export class InMemoryRecorder implements CallbackRecorder {
  /** The callbacks recorded, each once, in order. */
  calls: AcceptedCallback[] = [];
  available = true;

  async record(callback: AcceptedCallback): Promise<string> {
    if (!this.available) throw new RecorderUnavailableError('Temporal is away');
    const recorded = this.calls.find(({ workflowId }) => workflowId === callback.workflowId);
    if (recorded) ensureSameCallback(callback, recorded.objectIds);
    else this.calls.push(callback);
    return 'memory';
  }

  async isReachable(): Promise<boolean> {
    return this.available;
  }
}
