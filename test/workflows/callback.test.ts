import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { noopMetricMeter } from '@temporalio/common';
import { AdaptiveConcurrency } from '../../src/activities/adaptive-concurrency';
import { createHandOut } from '../../src/activities/hand-out';
import { OBJECT_ID_SEARCH_ATTRIBUTE } from '../../src/worker/object-id-search-attribute';
import { callbackWorkflow, type ObjectPresenceInput } from '../../src/workflows';
import { WorkflowTestServer } from './support';

describe('callbackWorkflow on a real Temporal server, with the real hand-out', () => {
  let temporal: WorkflowTestServer;

  before(async () => {
    temporal = await WorkflowTestServer.start();
  });
  after(() => temporal?.stop());

  it('resumes a hand-out that failed part way from its last heartbeat, not from the start', async () => {
    const objectIds = Array.from({ length: 40 }, (_, i) => 1_000 + i);
    const failAt = 25;
    const signalled: Array<{ attempt: number; objectId: number }> = [];
    // The real hand-out, whose signal-with-starts reach the real server through a client that
    // fails one of them once: a failure part way through, as a Temporal hiccup would cause.
    const client = new Client({
      connection: temporal.client.connection,
      interceptors: {
        workflow: [
          {
            async signalWithStart(input, next) {
              const { attempt } = Context.current().info;
              const { objectId } = input.options.args[0] as ObjectPresenceInput;
              signalled.push({ attempt, objectId });
              if (attempt === 1 && objectId === objectIds[failAt]) throw new Error('injected: Temporal unavailable');
              return next(input);
            },
          },
        ],
      },
    });
    const handOutSightings = createHandOut({
      client,
      // No worker polls it: the object workflows are started and signalled, and wait there.
      taskQueue: `objects-${randomUUID()}`,
      objectTtlSeconds: 30,
      // One signal at a time, so that the checkpoint at the failure is exactly the ids before it.
      concurrency: new AdaptiveConcurrency({ initial: 1, min: 1, max: 1, tolerance: 2, floorMs: 5 }),
      metrics: {
        backlog: noopMetricMeter.createGauge('backlog'),
        expired: noopMetricMeter.createCounter('expired'),
      },
      objectIdSearchAttribute: OBJECT_ID_SEARCH_ATTRIBUTE,
    });

    await temporal.withWorker({ handOutSightings }, async (taskQueue) => {
      const result = await temporal.client.workflow.execute(callbackWorkflow, {
        workflowId: `callback-${randomUUID()}`,
        taskQueue,
        args: [{ objectIds, receivedAtMs: Date.now() }],
      });
      assert.deepEqual(result, { handedOut: objectIds.length, expired: 0 });
    });

    const byAttempt = (attempt: number) =>
      signalled.filter((call) => call.attempt === attempt).map(({ objectId }) => objectId);
    const first = byAttempt(1);
    const second = byAttempt(2);
    assert.deepEqual(byAttempt(3), [], 'one retry was enough');
    // The first attempt stops at the failure; at most the call queued behind it went out too.
    assert.deepEqual(first.slice(0, failAt + 1), objectIds.slice(0, failAt + 1));
    assert.ok(first.length <= failAt + 2, `the first attempt went on to ${first.length} calls`);
    // The retry starts at the id that failed: none of the 25 before it is signalled again.
    assert.deepEqual(second, objectIds.slice(failAt));
  });
});
