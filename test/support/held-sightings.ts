import type { WorkerSightings } from '../../src/activities';
import type { CheckOutcome } from '../../src/workflows/contracts';

/**
 * A worker's sightings as its checks see them: the newest per id, which the test sets, and
 * what the checks report back (what they served, and how many run per id).
 */
export class HeldSightings implements WorkerSightings {
  readonly newest = new Map<number, number>();
  readonly served: Array<[objectId: number, receivedAtMs: number, outcome: CheckOutcome]> = [];
  readonly running = new Map<number, number>();

  newestSighting(objectId: number): number | undefined {
    return this.newest.get(objectId);
  }

  checkStarted(objectId: number): void {
    this.running.set(objectId, (this.running.get(objectId) ?? 0) + 1);
  }

  checkServed(objectId: number, receivedAtMs: number, outcome: CheckOutcome): void {
    this.served.push([objectId, receivedAtMs, outcome]);
  }

  checkEnded(objectId: number): void {
    this.running.set(objectId, (this.running.get(objectId) ?? 0) - 1);
  }
}
