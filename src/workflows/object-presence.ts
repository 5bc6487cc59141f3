import {
  ActivityFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PresenceActivities } from '../activities';
import { databaseWriteOptions, statusCheckOptions } from './activity-options';
import { sightedSignal } from './sighting';

const { fetchObjectStatus } = proxyActivities<PresenceActivities>(statusCheckOptions);
const { recordSighting } = proxyActivities<PresenceActivities>(databaseWriteOptions);

export interface ObjectPresenceInput {
  objectId: number;
  /** A sighting not yet checked, carried over by continue-as-new. */
  pendingReceivedAtMs?: number;
}

/**
 * Checks one object for every sighting of it, coalescing sightings that arrive while a check
 * runs: a sighting received after a check began gets one more check, so at most one check is
 * queued behind the running one however often the id repeats, and the newest receipt time wins.
 */
export async function objectPresenceWorkflow(input: ObjectPresenceInput): Promise<void> {
  const { objectId } = input;
  let pendingReceivedAtMs = input.pendingReceivedAtMs;
  setHandler(sightedSignal, (receivedAtMs) => {
    pendingReceivedAtMs = Math.max(receivedAtMs, pendingReceivedAtMs ?? receivedAtMs);
  });

  // Started through signal-with-start, so the first sighting is already in this activation.
  await condition(() => pendingReceivedAtMs !== undefined);

  while (pendingReceivedAtMs !== undefined) {
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof objectPresenceWorkflow>({ objectId, pendingReceivedAtMs });
    }
    const receivedAtMs = pendingReceivedAtMs;
    pendingReceivedAtMs = undefined;
    try {
      const { online } = await fetchObjectStatus(objectId);
      if (online) await recordSighting(objectId, receivedAtMs);
    } catch (error) {
      // A check that failed for good (the object service rejected the id) fails the workflow,
      // visibly, unless a newer sighting is waiting: that one gets its own check.
      if (!(error instanceof ActivityFailure) || pendingReceivedAtMs === undefined) throw error;
      log.warn('status check failed; checking the newer sighting', { objectId, error: error.message });
    }
  }
}
