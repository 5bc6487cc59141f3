import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { CheckOutcome, CheckReport, PresenceActivities } from './contracts';
import { sightingCheckOptions } from './activity-options';
import { checkStateQuery, sightedSignal } from './sighting';

const { checkObject } = proxyLocalActivities<PresenceActivities>(sightingCheckOptions);

/**
 * How long a workflow waits for the next sighting after its last check. Ids repeat every few
 * seconds, and a sighting signalled into a running workflow costs the server a fraction of
 * what starting a new workflow does.
 */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Marks runs that watch their idle window with one timer, not one per check. */
const IDLE_WINDOW_TIMER_PATCH = 'idle-window-timer';

export interface ObjectPresenceInput {
  objectId: number;
  /** A sighting not yet checked, carried over by continue-as-new. */
  pendingReceivedAtMs?: number;
  /**
   * How long to wait for the next sighting before completing; unset (as the hand-out leaves it)
   * means DEFAULT_IDLE_TIMEOUT_MS. An input, not a constant, so that a shorter window outlives
   * continue-as-new and a workflow's whole life can be watched in seconds.
   */
  idleTimeoutMs?: number;
}

/**
 * Checks one object for every sighting of it, coalescing sightings that arrive while a check
 * runs: a sighting received after a check began gets one more check, so at most one check is
 * queued behind the running one however often the id repeats, and the newest receipt time wins.
 */
export async function objectPresenceWorkflow(input: ObjectPresenceInput): Promise<void> {
  const { objectId, idleTimeoutMs } = input;
  let pendingReceivedAtMs = input.pendingReceivedAtMs;
  let checkedReceivedAtMs: number | undefined;
  let checking = false;
  let lastOutcome: CheckOutcome | 'failed' | undefined;
  let checks = 0;
  // The newest receipt time a finished check answered for. Only checks that report what they
  // covered set it: histories recorded before they did replay without it, as they ran.
  let answeredReceivedAtMs = -Infinity;
  // Shown by the Web UI as the workflow's current details; answered from memory, no history cost.
  const describe = () =>
    setCurrentDetails(
      [
        `**Object ${objectId}**: ${lastOutcome && checkedReceivedAtMs !== undefined ? presence(lastOutcome, readable(checkedReceivedAtMs)) : 'not checked yet'}`,
        `${checks} check${checks === 1 ? '' : 's'} in this run; ${checking ? 'checking now' : 'idle'}` +
          (pendingReceivedAtMs === undefined ? '' : `; a sighting of ${readable(pendingReceivedAtMs)} waits`),
      ].join('\n\n'),
    );
  setHandler(sightedSignal, (receivedAtMs) => {
    // A check whose request started after this sighting was received has answered for it: a
    // worker's check answers for the newest sighting the worker had heard of when it started.
    if (receivedAtMs <= answeredReceivedAtMs) return;
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

  const idleMs = idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const check = async () => {
    const receivedAtMs = pendingReceivedAtMs as number;
    pendingReceivedAtMs = undefined;
    checking = true;
    describe();
    let coversReceivedAtMs = receivedAtMs;
    try {
      // A bare outcome in histories recorded before checks reported what they covered.
      const report: CheckReport | CheckOutcome = await checkObject(objectId, receivedAtMs);
      if (typeof report === 'string') {
        lastOutcome = report;
      } else {
        lastOutcome = report.outcome;
        coversReceivedAtMs = report.coversReceivedAtMs;
        answeredReceivedAtMs = Math.max(answeredReceivedAtMs, coversReceivedAtMs);
        if ((pendingReceivedAtMs ?? Infinity) <= answeredReceivedAtMs) pendingReceivedAtMs = undefined;
      }
    } catch (error) {
      lastOutcome = 'failed';
      // A check that failed for good (the object service rejected the id) fails the workflow,
      // visibly, unless a newer sighting is waiting: that one gets its own check. This branch
      // sees a newer sighting only when it came in a later workflow task than the check began
      // in (a long check, with retries). One that comes during the same task makes the server
      // refuse the failure; the task then runs again with both sightings, coalesced.
      if (!(error instanceof TemporalFailure) || pendingReceivedAtMs === undefined) throw error;
      log.warn('status check failed; checking the newer sighting', { objectId, error: error.message });
    } finally {
      checking = false;
      checks += 1;
    }
    checkedReceivedAtMs = coversReceivedAtMs;
    describe();
  };
  const continueAsNewIfSuggested = async () => {
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof objectPresenceWorkflow>({ objectId, pendingReceivedAtMs, idleTimeoutMs });
    }
  };

  if (patched(IDLE_WINDOW_TIMER_PATCH)) {
    // Far fewer timers than one per check: a timer is a Temporal Cloud action and two history
    // events, and an object sighted every few seconds would start and cancel one after every
    // check. A timer here runs on across checks. A check that ends with less than half the
    // window left on it replaces it, in the check's own workflow task, so a busy object's timer
    // never fires (a fire would cost a workflow task of its own) and it starts at most one
    // timer per half window. One that fires early, during or too soon after a check, is set
    // again for what remains of the window after the last check.
    let busyUntil = Date.now();
    let idle = false;
    let idleTimer: { scope: CancellationScope; firesAt: number } | undefined;
    const startIdleTimer = (ms: number): void => {
      const timer = { scope: new CancellationScope(), firesAt: Date.now() + ms };
      idleTimer = timer;
      timer.scope
        .run(() => sleep(ms))
        .then(
          () => {
            idleTimer = undefined;
            const idleFor = Date.now() - busyUntil;
            if (checking || pendingReceivedAtMs !== undefined) startIdleTimer(idleMs);
            else if (idleFor >= idleMs) idle = true;
            else startIdleTimer(idleMs - idleFor);
          },
          (error: unknown) => {
            if (!isCancellation(error)) throw error;
          },
        );
    };
    startIdleTimer(idleMs);
    for (;;) {
      await condition(() => pendingReceivedAtMs !== undefined || idle);
      if (pendingReceivedAtMs === undefined) return;
      await continueAsNewIfSuggested();
      await check();
      busyUntil = Date.now();
      if (idleTimer === undefined) {
        // A sighting that came as the window closed: the window starts again after its check.
        idle = false;
        startIdleTimer(idleMs);
      } else if (idleTimer.firesAt - busyUntil < idleMs / 2) {
        idleTimer.scope.cancel();
        startIdleTimer(idleMs);
      }
    }
  }
  // Workflows started before the idle window timer: a timer after every check.
  while (await condition(() => pendingReceivedAtMs !== undefined, idleMs)) {
    await continueAsNewIfSuggested();
    await check();
  }
}

const readable = (epochMs: number): string => new Date(epochMs).toISOString();

/** What a check's outcome says about the object, for people reading the Web UI. */
function presence(outcome: CheckOutcome | 'failed', sightedAt: string): string {
  switch (outcome) {
    case 'recorded':
      return `online, last seen ${sightedAt}`;
    case 'already-newer':
      return `online at ${sightedAt}; a newer sighting was already recorded`;
    case 'offline':
      return `offline at the sighting of ${sightedAt}`;
    case 'expired':
      return `the sighting of ${sightedAt} expired before its check`;
    case 'failed':
      return `the check of the sighting of ${sightedAt} failed`;
  }
}
