import type { WorkerSightings } from '../../src/activities';
import type { CheckOutcome } from '../../src/workflows/contracts';

/**
 * A worker's sightings as its checks see them: the newest per id, which the test sets (or
 * delivers to the running checks with `sight`), and what the checks report back (what they
 * served, and how many run per id).
 */
export class HeldSightings implements WorkerSightings {
  readonly newest = new Map<number, number>();
  readonly served: Array<[objectId: number, receivedAtMs: number, outcome: CheckOutcome]> = [];
  readonly running = new Map<number, number>();
  private readonly listeners = new Map<number, Set<() => void>>();

  newestSighting(objectId: number): number | undefined {
    return this.newest.get(objectId);
  }

  /** A sighting comes in: the checks of its id running hear of it, as from the dispatcher. */
  sight(objectId: number, receivedAtMs: number): void {
    this.newest.set(objectId, receivedAtMs);
    for (const onSighting of this.listeners.get(objectId) ?? []) onSighting();
  }

  checkStarted(objectId: number, onSighting: () => void): () => void {
    this.running.set(objectId, (this.running.get(objectId) ?? 0) + 1);
    let listeners = this.listeners.get(objectId);
    if (!listeners) this.listeners.set(objectId, (listeners = new Set()));
    listeners.add(onSighting);
    return () => {
      this.running.set(objectId, (this.running.get(objectId) ?? 0) - 1);
      listeners.delete(onSighting);
    };
  }

  checkServed(objectId: number, receivedAtMs: number, outcome: CheckOutcome): void {
    this.served.push([objectId, receivedAtMs, outcome]);
  }
}
