import { RecorderOverloadedError, RecorderUnavailableError, type SightingRecorder } from '../../src/api/sighting-recorder';

/** Stands in for Temporal in API unit tests; the integration tests use the real server. */
export class InMemoryRecorder implements SightingRecorder {
  calls: Array<{ objectIds: readonly number[]; receivedAtMs: number }> = [];
  available = true;
  overloaded = false;

  async record(objectIds: readonly number[], receivedAtMs: number): Promise<void> {
    if (!this.available) throw new RecorderUnavailableError('Temporal is away');
    if (this.overloaded) throw new RecorderOverloadedError('too much in flight');
    this.calls.push({ objectIds, receivedAtMs });
  }

  async isReachable(): Promise<boolean> {
    return this.available;
  }
}
