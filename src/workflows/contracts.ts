// What the workflows need of their activities, owned here, where they are called: the
// activities implement these types and import them, never the reverse (as samples-typescript's
// shared.ts). Types only, so the workflow bundle takes nothing from the worker's code.

/** What one check found: shown as the local activity's result in the Web UI. */
export type CheckOutcome = 'offline' | 'recorded' | 'already-newer' | 'expired';

/** What a check answered for, which may be a newer sighting than the one it was asked about. */
export interface CheckReport {
  outcome: CheckOutcome;
  /**
   * The newest receipt time the check answered for: its own sighting's, or that of a newer
   * sighting its worker had heard of when the check's request started.
   */
  coversReceivedAtMs: number;
}

export interface HandOutResult {
  /**
   * Ids whose sighting reached their object's workflow, by this attempt and the ones before it:
   * signalled, or covered by a delivered sighting of the same id at least as new.
   */
  handedOut: number;
  /** Ids not handed out because the callback had grown older than the TTL first. */
  expired: number;
}

/** Every activity the workflows call. */
export interface PresenceActivities {
  /** One check: the status, then the write if online, for the newest sighting its worker knows of. */
  checkObject(objectId: number, receivedAtMs: number): Promise<CheckReport>;
  /** Forgets objects not seen within the worker's TTL; returns how many. */
  deleteStaleObjects(): Promise<number>;
  /** Hands each id of a callback to its object's workflow. */
  handOutSightings(objectIds: number[], receivedAtMs: number): Promise<HandOutResult>;
}
