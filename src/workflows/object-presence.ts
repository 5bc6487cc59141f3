import {
  ActivityFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CheckOutcome, PresenceActivities } from './contracts';
import { checkOptions } from './activity-options';
import { checkStateQuery, checkTaskQueue, sightedSignal } from './sighting';

/** How long a workflow waits for the next sighting after its last check before it completes. */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** A sighting that arrives during a check is checked at once, beside it, rather than one answer later. */
const MAX_CHECKS_AT_ONCE = 2;

export interface ObjectPresenceInput {
  objectId: number;
  /** A sighting not yet checked, carried over by continue-as-new. */
  pendingReceivedAtMs?: number;
  /** Unset means DEFAULT_IDLE_TIMEOUT_MS; an input so that tests can watch a whole life in seconds. */
  idleTimeoutMs?: number;
}

/**
 * One object's entity workflow: it owns when its object is checked. A status check answers for
 * the object's state when it starts, so one check covers every sighting received before it; a
 * sighting that arrives during a check gets a check that starts after it, and however often the
 * id repeats, only the newest receipt time waits.
 */
export async function objectPresenceWorkflow(input: ObjectPresenceInput): Promise<void> {
  const { objectId, idleTimeoutMs } = input;
  const idleMs = idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const { checkObject } = proxyActivities<PresenceActivities>({
    ...checkOptions,
    taskQueue: checkTaskQueue(workflowInfo().taskQueue),
  });
  let pendingReceivedAtMs = input.pendingReceivedAtMs;
  let startedReceivedAtMs = -Infinity;
  let checkedReceivedAtMs: number | undefined;
  let lastOutcome: CheckOutcome | 'failed' | undefined;
  let rejection: unknown;
  let running = 0;
  let checks = 0;
  let quietSince = Date.now();
  let idle = false;

  const describe = () =>
    setCurrentDetails(
      [
        `**Object ${objectId}**: ${lastOutcome && checkedReceivedAtMs !== undefined ? presence(lastOutcome, readable(checkedReceivedAtMs)) : 'not checked yet'}`,
        `${checks} check${checks === 1 ? '' : 's'} in this run; ${running > 0 ? `${running} running` : 'idle'}` +
          (pendingReceivedAtMs === undefined ? '' : `; a sighting of ${readable(pendingReceivedAtMs)} waits`),
      ].join('\n\n'),
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
    checking: running > 0,
    checkedReceivedAt: checkedReceivedAtMs === undefined ? undefined : readable(checkedReceivedAtMs),
    pendingReceivedAt: pendingReceivedAtMs === undefined ? undefined : readable(pendingReceivedAtMs),
    lastOutcome,
  }));
  describe();

  const check = async (receivedAtMs: number): Promise<void> => {
    running += 1;
    startedReceivedAtMs = receivedAtMs;
    describe();
    let outcome: CheckOutcome | 'failed';
    try {
      outcome = await checkObject(objectId, receivedAtMs);
    } catch (error) {
      // Only a non-retryable answer ends a check with an error: the object service rejected the id.
      outcome = 'failed';
      log.warn('status check rejected', { objectId, error: (error as Error).message });
      // The workflow fails with the object service's answer itself, not the activity's wrapper.
      rejection = error instanceof ActivityFailure && error.cause ? error.cause : error;
    }
    // Checks may finish out of order: the newest sighting's answer is the object's.
    if (receivedAtMs >= (checkedReceivedAtMs ?? -Infinity)) {
      checkedReceivedAtMs = receivedAtMs;
      lastOutcome = outcome;
    }
    running -= 1;
    checks += 1;
    quietSince = Date.now();
    describe();
  };

  const quiet = () => running === 0 && pendingReceivedAtMs === undefined;
  // A timer only while quiet, and none per check: each timer is a billed action on Temporal Cloud.
  const watchIdle = async (): Promise<never> => {
    for (;;) {
      await condition(quiet);
      const quietForMs = Date.now() - quietSince;
      if (quietForMs < idleMs) {
        await sleep(idleMs - quietForMs);
      } else {
        idle = true;
        await condition(() => !idle);
      }
    }
  };
  void watchIdle();

  for (;;) {
    const canStart = () => pendingReceivedAtMs !== undefined && running < MAX_CHECKS_AT_ONCE;
    await condition(() => canStart() || (quiet() && (idle || lastOutcome === 'failed')));
    if (quiet()) {
      // A rejected id fails the workflow, visibly, unless a newer sighting's check answered.
      if (lastOutcome === 'failed') throw rejection;
      return;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => running === 0);
      await continueAsNew<typeof objectPresenceWorkflow>({ objectId, pendingReceivedAtMs, idleTimeoutMs });
    }
    const receivedAtMs = pendingReceivedAtMs as number;
    pendingReceivedAtMs = undefined;
    idle = false;
    void check(receivedAtMs);
  }
}

const readable = (epochMs: number): string => new Date(epochMs).toISOString();

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
      return `the object service rejected the check of the sighting of ${sightedAt}`;
  }
}
