import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { HandOutResult, PresenceActivities } from './contracts';
import { handOutOptions } from './activity-options';

export interface CallbackInput {
  /** Distinct ids, in the order the callback listed them. */
  objectIds: number[];
  /** Epoch milliseconds at which the API received the callback: every sighting's time. */
  receivedAtMs: number;
}

/** A callback that passed validation: the workflow's input, and the id to record it under. */
export type AcceptedCallback = CallbackInput & {
  /** The callback workflow's id: random, or derived from the sender's Idempotency-Key. */
  workflowId: string;
};

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
