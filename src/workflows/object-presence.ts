import {
  ActivityFailure,
  condition,
  continueAsNew,
  log,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CheckOutcome, PresenceActivities } from './contracts';
import { checkOptions } from './activity-options';
import { nextCheckAtMs, type CheckInterval } from './check-interval';
import { objectDetails, readable } from './object-details';
import { checkStateQuery, sightedSignal } from './sighting';

const { checkObject, recordSighting } = proxyLocalActivities<PresenceActivities>(checkOptions);

/** The window without a check after which a workflow completes: long against the gaps between an object's sightings, as each window costs a timer. */
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

export interface ObjectPresenceInput {
  objectId: number;
  /** A sighting not yet checked, carried over by continue-as-new. */
  pendingReceivedAtMs?: number;
  /** Unset means DEFAULT_IDLE_TIMEOUT_MS; an input so that tests can watch a whole life in seconds. */
  idleTimeoutMs?: number;
  /** MIN_CHECK_INTERVAL_SECONDS, when set; unset, a sighting is checked as soon as it comes. */
  interval?: CheckInterval;
  /** When the latest check started, carried over by continue-as-new so that the interval holds across runs. */
  lastCheckAtMs?: number;
}

/**
 * One object's entity workflow: it owns when its object is checked. A status check answers for
 * the object's state when it asks, so its answer holds for every sighting received before then,
 * including those whose signals come later: they only need their receipt time written. A
 * sighting received after it asked gets one more check, and however often the id repeats, only
 * the newest receipt time waits.
 */
export async function objectPresenceWorkflow(input: ObjectPresenceInput): Promise<void> {
  const { objectId, interval, idleTimeoutMs: idleMs = DEFAULT_IDLE_TIMEOUT_MS } = input;
  let pendingReceivedAtMs = input.pendingReceivedAtMs;
  let startedReceivedAtMs = -Infinity;
  let checkedReceivedAtMs: number | undefined;
  let lastOutcome: CheckOutcome | 'failed' | undefined;
  let checking = false;
  let checks = 0;
  let rowSeenAtMs: number | undefined;
  let answer: { askedAtMs: number; online: boolean } | undefined;
  let lastCheckAtMs = input.lastCheckAtMs;
  let idle = false;
  const dueAtMs = () => (interval ? nextCheckAtMs(interval, lastCheckAtMs, rowSeenAtMs) : -Infinity);

  const describe = () =>
    setCurrentDetails(
      objectDetails({
        objectId,
        checks,
        checking,
        lastOutcome,
        checkedReceivedAtMs,
        pendingReceivedAtMs,
        dueAtMs: dueAtMs(),
      }),
    );
  setHandler(sightedSignal, (receivedAtMs) => {
    // A check that started after this sighting was received answers for it.
    if (receivedAtMs <= startedReceivedAtMs) return;
    pendingReceivedAtMs = Math.max(receivedAtMs, pendingReceivedAtMs ?? receivedAtMs);
    describe();
  });
  setHandler(checkStateQuery, () => ({
    checkedReceivedAtMs,
    pendingReceivedAtMs,
    checking,
    checkedReceivedAt: checkedReceivedAtMs === undefined ? undefined : readable(checkedReceivedAtMs),
    pendingReceivedAt: pendingReceivedAtMs === undefined ? undefined : readable(pendingReceivedAtMs),
    lastOutcome,
  }));
  describe();

  // Idle after a whole quiet window without a check: one timer per window, not per check, as each
  // timer is a billed action on Temporal Cloud. So a run ends 1 to 2 windows after its last check.
  const quiet = () => !checking && pendingReceivedAtMs === undefined;
  const watchIdle = async (): Promise<never> => {
    for (;;) {
      await condition(quiet);
      const checksBefore = checks;
      await sleep(idleMs);
      if (checks === checksBefore && quiet()) {
        idle = true;
        await condition(() => !idle);
      }
    }
  };
  void watchIdle();

  for (;;) {
    await condition(() => pendingReceivedAtMs !== undefined || idle);
    if (pendingReceivedAtMs === undefined) return;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof objectPresenceWorkflow>({ ...input, pendingReceivedAtMs, lastCheckAtMs });
    }
    const answered = answer && pendingReceivedAtMs <= answer.askedAtMs ? answer : undefined;
    const dueInMs = answered ? 0 : dueAtMs() - Date.now();
    if (dueInMs > 0) {
      describe();
      await sleep(dueInMs);
      continue;
    }
    const receivedAtMs = pendingReceivedAtMs;
    pendingReceivedAtMs = undefined;
    startedReceivedAtMs = receivedAtMs;
    checking = true;
    idle = false;
    describe();
    try {
      if (answered) {
        lastOutcome = answered.online ? await recordSighting(objectId, receivedAtMs) : 'offline';
      } else {
        lastCheckAtMs = Date.now();
        const result = await checkObject(objectId, receivedAtMs);
        lastOutcome = result.outcome;
        if (result.askedAtMs !== undefined)
          answer = { askedAtMs: result.askedAtMs, online: result.outcome !== 'offline' };
      }
      if (lastOutcome === 'recorded' || lastOutcome === 'already-newer') rowSeenAtMs = receivedAtMs;
    } catch (error) {
      // Only a rejected id ends a check with an error: fail visibly, unless a newer sighting waits.
      lastOutcome = 'failed';
      if (pendingReceivedAtMs === undefined)
        throw error instanceof ActivityFailure && error.cause ? error.cause : error;
      log.warn('status check rejected; checking the newer sighting', { objectId, error: (error as Error).message });
    } finally {
      checking = false;
      checks += 1;
      checkedReceivedAtMs = receivedAtMs;
      describe();
    }
  }
}
