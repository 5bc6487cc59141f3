import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { noopMetricMeter } from '@temporalio/common';
import { createHandOut } from '../../src/activities/hand-out';
import { SightingDispatcher } from '../../src/activities/sighting-dispatcher';
import { createSightingSignal } from '../../src/activities/sighting-signal';
import { OBJECT_ID_SEARCH_ATTRIBUTE } from '../../src/worker/object-id-search-attribute';
import { callbackWorkflow, objectWorkflowId, type ObjectPresenceInput } from '../../src/workflows';
import { Calls, Gate, WorkflowTestServer } from './support';

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
      dispatcher: new SightingDispatcher({
        deliver: createSightingSignal({
          client,
          // No worker polls it: the object workflows are started and signalled, and wait there.
          taskQueue: `objects-${randomUUID()}`,
          objectIdSearchAttribute: OBJECT_ID_SEARCH_ATTRIBUTE,
        }),
        // One signal at a time, so that the checkpoint at the failure is exactly the ids before it.
        concurrency: { signals: 1, starts: 1 },
        ttlMs: 30_000,
      }),
      metrics: { expired: noopMetricMeter.createCounter('expired') },
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

  it('coalesces across callbacks: an older sighting waiting behind is covered by the newer one, with one signal', async () => {
    const blockerId = 2_001;
    const sharedId = 2_002;
    const signalled: Array<{ objectId: number; receivedAtMs: number }> = [];
    const blockerHeld = new Gate<void>();
    const blockerSent = new Gate<void>();
    // The real server, through a client that holds the first signal until the newer callback is in.
    const client = new Client({
      connection: temporal.client.connection,
      interceptors: {
        workflow: [
          {
            async signalWithStart(input, next) {
              const { objectId } = input.options.args[0] as ObjectPresenceInput;
              signalled.push({ objectId, receivedAtMs: input.signalArgs[0] as number });
              if (objectId === blockerId) {
                blockerSent.open();
                await blockerHeld.promise;
              }
              return next(input);
            },
          },
        ],
      },
    });
    const objectsQueue = `objects-${randomUUID()}`;
    const handOut = createHandOut({
      dispatcher: new SightingDispatcher({
        deliver: createSightingSignal({ client, taskQueue: objectsQueue }),
        concurrency: { signals: 1, starts: 1 },
        ttlMs: 30_000,
      }),
      metrics: { expired: noopMetricMeter.createCounter('expired') },
    });
    const registered = new Calls<number>();
    const handOutSightings = (objectIds: number[], receivedAtMs: number) => {
      // The dispatcher registers the ids before handOut returns.
      const result = handOut(objectIds, receivedAtMs);
      registered.record(receivedAtMs);
      return result;
    };

    const olderAtMs = Date.now() - 2_000;
    const newerAtMs = olderAtMs + 1_000;
    await temporal.withWorker({ handOutSightings }, async (taskQueue) => {
      const callback = (objectIds: number[], receivedAtMs: number) =>
        temporal.client.workflow.start(callbackWorkflow, {
          workflowId: `callback-${randomUUID()}`,
          taskQueue,
          args: [{ objectIds, receivedAtMs }],
        });
      const older = await callback([blockerId, sharedId], olderAtMs);
      await blockerSent.promise;
      const newer = await callback([sharedId], newerAtMs);
      await registered.reach(2);
      blockerHeld.open();
      assert.deepEqual(await older.result(), { handedOut: 2, expired: 0 });
      assert.deepEqual(await newer.result(), { handedOut: 1, expired: 0 });
    });

    assert.deepEqual(signalled, [
      { objectId: blockerId, receivedAtMs: olderAtMs },
      { objectId: sharedId, receivedAtMs: newerAtMs },
    ]);
    const history = await temporal.client.workflow.getHandle(objectWorkflowId(sharedId)).fetchHistory();
    const signals = (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes);
    assert.equal(signals.length, 1, 'the object workflow got one sighting, the newer one');
  });
});
