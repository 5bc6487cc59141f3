// The activities' signatures, owned by the workflows that call them (as samples-typescript's
// shared.ts): types only, so the workflow bundle takes nothing from the worker's code.

/** What one check found. */
export type CheckOutcome = 'offline' | 'recorded' | 'already-newer' | 'expired';

export interface CheckResult {
  outcome: CheckOutcome;
  /** When its status request went out, unless the sighting had expired first: the answer holds for every sighting received by then. */
  askedAtMs?: number;
}

export interface HandOutResult {
  /** Ids whose sighting reached their object's workflow, by this attempt and the ones before it. */
  handedOut: number;
  /** Ids not handed out because the callback had grown older than the TTL first. */
  expired: number;
}

export interface PresenceActivities {
  /** The object's status now; if online, moves its `last_seen` forward to the sighting's receipt time. */
  checkObject(objectId: number, receivedAtMs: number): Promise<CheckResult>;
  /** Moves `last_seen` forward for a sighting that a check's answer already covers: no status request. */
  recordSighting(objectId: number, receivedAtMs: number): Promise<CheckOutcome>;
  /** Forgets objects not seen within the worker's TTL; returns how many. */
  deleteStaleObjects(): Promise<number>;
  /** Hands each id of a callback to its object's workflow. */
  handOutSightings(objectIds: number[], receivedAtMs: number): Promise<HandOutResult>;
}
