import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { PresenceActivities } from '../activities';
import type { HandOutResult } from '../activities/hand-out';
import { handOutOptions } from './activity-options';

export interface CallbackInput {
  /** Distinct ids, in the order the callback listed them. */
  objectIds: number[];
  /** Epoch milliseconds at which the API received the callback: every sighting's time. */
  receivedAtMs: number;
}

const { handOutSightings } = proxyActivities<PresenceActivities>(handOutOptions);

/**
 * One accepted callback. Its start is the API's single durable write; this workflow then hands
 * every id to its object's workflow. The hand-out is an activity because only a client can
 * signal-with-start, and it heartbeats its progress so that a retry resumes where it stopped.
 */
export async function callbackWorkflow(input: CallbackInput): Promise<HandOutResult> {
  // How many ids and when they came is the workflow's summary, set at its start; the hand-out's
  // progress shows as its heartbeat details, on the pending activity.
  setCurrentDetails('handing the ids to their object workflows');
  const result = await handOutSightings(input.objectIds, input.receivedAtMs);
  setCurrentDetails(`${result.handedOut} handed out, ${result.expired} expired before their turn`);
  return result;
}
