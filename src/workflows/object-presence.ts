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
import { nextCheckAtMs, sameInterval, type CheckInterval } from './check-interval';
import { CLOCK_SKEW_MS } from './clock-skew';
import { objectDetails, readable } from './object-details';
import { checkStateQuery, sightedSignal } from './sighting';

const { checkObject, recordSighting } = proxyLocalActivities<PresenceActivities>(checkOptions);

/** The window without a check after which a workflow completes: long against the gaps between an object's sightings, as each window costs a timer. */
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

export interface ObjectPresenceInput {
  objectId: number;
  /** Unset means DEFAULT_IDLE_TIMEOUT_MS; an input so that tests can watch a whole life in seconds. */
  idleTimeoutMs?: number;
  /** What the previous run knew, handed over whole by continue-as-new. */
  memory?: ObjectMemory;
}

/** What a run knows that decides its next checks: all of it, so that each run continues the last. */
export interface ObjectMemory {
  /** A sighting not yet checked. */
  pendingReceivedAtMs?: number;
  /** The sighting the latest check started for: it answers for the ones received before it. */
  startedReceivedAtMs?: number;
  /** When the latest status request was sent by the workflow (its clock), for the interval. */
  lastCheckAtMs?: number;
  /** The receipt time the row was last written with, for when it would lapse. */
  rowSeenAtMs?: number;
  /** The latest status answer, and when its request went out by the worker's clock. */
  answer?: { askedAtMs: number; online: boolean };
  /** MIN_CHECK_INTERVAL_SECONDS as the latest sighting's worker sent it; unset: each sighting is checked as it comes. */
  interval?: CheckInterval;
}

/**
 * One object's entity workflow, owning when its object is checked: a check's answer covers every
 * sighting received (beyond the clocks' skew) before it asked, and only the newest later one waits.
 */
export async function objectPresenceWorkflow(input: ObjectPresenceInput): Promise<void> {
  const { objectId, idleTimeoutMs: idleMs = DEFAULT_IDLE_TIMEOUT_MS } = input;
  const memory: ObjectMemory = { ...input.memory };
  let checkedReceivedAtMs: number | undefined;
  let lastOutcome: CheckOutcome | 'failed' | undefined;
  let checking = false;
  let checks = 0;
  let idle = false;
  const dueAtMs = () =>
    memory.interval ? nextCheckAtMs(memory.interval, memory.lastCheckAtMs, memory.rowSeenAtMs) : -Infinity;

  const describe = () =>
    setCurrentDetails(
      objectDetails({
        objectId,
        checks,
        checking,
        lastOutcome,
        checkedReceivedAtMs,
        pendingReceivedAtMs: memory.pendingReceivedAtMs,
        dueAtMs: dueAtMs(),
      }),
    );
  setHandler(sightedSignal, (receivedAtMs, interval) => {
    memory.interval = interval;
    // A check that started after this sighting was received answers for it.
    if (receivedAtMs + CLOCK_SKEW_MS <= (memory.startedReceivedAtMs ?? -Infinity)) return;
    memory.pendingReceivedAtMs = Math.max(receivedAtMs, memory.pendingReceivedAtMs ?? receivedAtMs);
    describe();
  });
  setHandler(checkStateQuery, () => ({
    checkedReceivedAtMs,
    pendingReceivedAtMs: memory.pendingReceivedAtMs,
    checking,
    checkedReceivedAt: checkedReceivedAtMs === undefined ? undefined : readable(checkedReceivedAtMs),
    pendingReceivedAt: memory.pendingReceivedAtMs === undefined ? undefined : readable(memory.pendingReceivedAtMs),
    lastOutcome,
  }));
  describe();

  // Idle after a whole quiet window without a check: one timer per window, not per check, as each
  // timer is a billed action on Temporal Cloud. So a run ends 1 to 2 windows after its last check.
  const quiet = () => !checking && memory.pendingReceivedAtMs === undefined;
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
    await condition(() => memory.pendingReceivedAtMs !== undefined || idle);
    const receivedAtMs = memory.pendingReceivedAtMs;
    if (receivedAtMs === undefined) return;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof objectPresenceWorkflow>({ ...input, memory });
    }
    const { answer } = memory;
    const answered = answer && receivedAtMs + CLOCK_SKEW_MS <= answer.askedAtMs ? answer : undefined;
    const dueInMs = answered ? 0 : dueAtMs() - Date.now();
    if (dueInMs > 0) {
      describe();
      // A sighting with another interval decides anew.
      const interval = memory.interval;
      await condition(() => !sameInterval(interval, memory.interval), dueInMs);
      continue;
    }
    memory.pendingReceivedAtMs = undefined;
    memory.startedReceivedAtMs = receivedAtMs;
    checking = true;
    idle = false;
    describe();
    try {
      if (answered) {
        lastOutcome = answered.online ? await recordSighting(objectId, receivedAtMs) : 'offline';
      } else {
        memory.lastCheckAtMs = Date.now();
        const result = await checkObject(objectId, receivedAtMs);
        lastOutcome = result.outcome;
        if (result.askedAtMs !== undefined)
          memory.answer = { askedAtMs: result.askedAtMs, online: result.outcome !== 'offline' };
      }
      if (lastOutcome === 'recorded' || lastOutcome === 'already-newer') memory.rowSeenAtMs = receivedAtMs;
    } catch (error) {
      // Only a rejected id ends a check with an error: fail visibly, unless a newer sighting waits.
      lastOutcome = 'failed';
      if (memory.pendingReceivedAtMs === undefined)
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
