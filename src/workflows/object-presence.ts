import {
  condition,
  continueAsNew,
  log,
  proxyLocalActivities,
  setHandler,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { PresenceActivities } from '../activities';
import { sightingCheckOptions } from './activity-options';
import { checkStateQuery, sightedSignal } from './sighting';

const { checkObject } = proxyLocalActivities<PresenceActivities>(sightingCheckOptions);

/**
 * How long a workflow waits for the next sighting after its last check. Ids repeat every few
 * seconds, and a sighting signalled into a running workflow costs the server a fraction of
 * what starting a new workflow does.
 */
const IDLE_TIMEOUT = '30 seconds';

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
  let checkedReceivedAtMs: number | undefined;
  let checking = false;
  setHandler(sightedSignal, (receivedAtMs) => {
    pendingReceivedAtMs = Math.max(receivedAtMs, pendingReceivedAtMs ?? receivedAtMs);
  });
  setHandler(checkStateQuery, () => ({ checkedReceivedAtMs, pendingReceivedAtMs, checking }));

  while (await condition(() => pendingReceivedAtMs !== undefined, IDLE_TIMEOUT)) {
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof objectPresenceWorkflow>({ objectId, pendingReceivedAtMs });
    }
    const receivedAtMs = pendingReceivedAtMs as number;
    pendingReceivedAtMs = undefined;
    checking = true;
    try {
      await checkObject(objectId, receivedAtMs);
    } catch (error) {
      // A check that failed for good (the object service rejected the id) fails the workflow,
      // visibly, unless a newer sighting is waiting: that one gets its own check.
      if (!(error instanceof TemporalFailure) || pendingReceivedAtMs === undefined) throw error;
      log.warn('status check failed; checking the newer sighting', { objectId, error: error.message });
    } finally {
      checking = false;
    }
    checkedReceivedAtMs = receivedAtMs;
  }
}
