import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CheckInterval } from './check-interval';

/**
 * Payload: epoch milliseconds at which the API received a callback carrying the object id, and
 * the signalling worker's check interval (unset: none), which the workflow then follows.
 */
export const sightedSignal = defineSignal<[receivedAtMs: number, interval?: CheckInterval]>('sighted');

export interface ObjectCheckState {
  /** Receipt time of the newest sighting whose check has finished. */
  checkedReceivedAtMs?: number;
  /** Receipt time of a sighting that still waits for its check. */
  pendingReceivedAtMs?: number;
  checking: boolean;
  /** The same two times in ISO 8601, for people reading the query in the Web UI. */
  checkedReceivedAt?: string;
  pendingReceivedAt?: string;
  /** What the newest finished check found: offline, recorded, already-newer, expired or failed. */
  lastOutcome?: string;
}

export const checkStateQuery = defineQuery<ObjectCheckState>('checkState');

/** One workflow per object id, so a repeated id joins the workflow already running. */
export const objectWorkflowId = (objectId: number): string => `object-${objectId}`;
