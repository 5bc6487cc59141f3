import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { callbackWorkflow, cleanupWorkflow, type HandOutResult } from '../../src/workflows';
import { assertBackoff, doublingBackoff, gapsOf } from '../support/retry-schedule';
import { WorkflowTestServer } from './support';

/** The hand-out's and the cleanup's retries: 0.5 s doubling to 10 s (README, docs/guarantees.md); the cap binds at the 6th. */
const BACKOFF_MS = doublingBackoff(500, 10_000, 6);
/** A retry's own work: the server's retry timer, then the activity task's dispatch to the worker. */
const SCHEDULING_SLACK_MS = 1_000;

/** An activity that fails until every backoff was waited, then returns `result`; it notes when each attempt came. */
function failingUntilCapped<T>(result: T): { attemptTimes: number[]; activity: () => Promise<T> } {
  const attemptTimes: number[] = [];
  return {
    attemptTimes,
    activity: () => {
      attemptTimes.push(Date.now());
      if (attemptTimes.length <= BACKOFF_MS.length) throw ApplicationFailure.retryable('injected failure');
      return Promise.resolve(result);
    },
  };
}

describe('the retries of the hand-out and the cleanup on a real Temporal server, their activities failing', () => {
  let temporal: WorkflowTestServer;

  before(async () => {
    temporal = await WorkflowTestServer.start();
  });
  after(() => temporal?.stop());

  it('back off 0.5 s doubling to 10 s between attempts, and no more', async (t) => {
    const handOut = failingUntilCapped<HandOutResult>({ handedOut: 1, expired: 0 });
    const cleanup = failingUntilCapped(0);
    const activities = { handOutSightings: handOut.activity, deleteStaleObjects: cleanup.activity };
    // Both at once: the longest schedule, 25.5 s, is the test's length.
    await temporal.withWorker(activities, (taskQueue) =>
      Promise.all([
        temporal.client.workflow.execute(callbackWorkflow, {
          workflowId: `callback-${randomUUID()}`,
          taskQueue,
          args: [{ objectIds: [1], receivedAtMs: Date.now() }],
        }),
        temporal.client.workflow.execute(cleanupWorkflow, { workflowId: `cleanup-${randomUUID()}`, taskQueue }),
      ]),
    );
    t.diagnostic(
      `hand-out attempts ${gapsOf(handOut.attemptTimes).join(', ')} ms apart, ` +
        `cleanup attempts ${gapsOf(cleanup.attemptTimes).join(', ')} ms apart`,
    );
    assertBackoff('the hand-out', handOut.attemptTimes, BACKOFF_MS, SCHEDULING_SLACK_MS);
    assertBackoff('the cleanup', cleanup.attemptTimes, BACKOFF_MS, SCHEDULING_SLACK_MS);
  });
});
