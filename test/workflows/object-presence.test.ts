import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CheckOutcome } from '../../src/workflows';
import { checkStateQuery, objectPresenceWorkflow, objectWorkflowId, sightedSignal } from '../../src/workflows';
import { eventually } from '../../dev/support/wait';
import { Calls, Gate, IDLE_MS, sight, sleep, WorkflowTestServer } from './support';

interface Check {
  objectId: number;
  receivedAtMs: number;
  runId: string;
}

/** A checkObject stub: records each check, and lets the test decide how each one ends. */
function checkStub(outcome: (check: Check, index: number) => CheckOutcome | Promise<CheckOutcome>) {
  const calls = new Calls<Check>();
  const activities = {
    async checkObject(objectId: number, receivedAtMs: number): Promise<CheckOutcome> {
      const check = { objectId, receivedAtMs, runId: String(Context.current().info.workflowExecution?.runId) };
      calls.record(check);
      return outcome(check, calls.list.length - 1);
    },
  };
  return { calls, activities };
}

let nextObjectId = 1;

const rejected = () =>
  ApplicationFailure.create({ type: 'ObjectService.rejected', message: 'invalid id', nonRetryable: true });

describe('objectPresenceWorkflow on a real Temporal server, checks stubbed', () => {
  let temporal: WorkflowTestServer;

  before(async () => {
    temporal = await WorkflowTestServer.start();
  });
  after(() => temporal?.stop());

  it('checks a sighting that comes in during a check beside it, and lets only the newest of the rest wait', async () => {
    const objectId = nextObjectId++;
    const gates = [new Gate<CheckOutcome>(), new Gate<CheckOutcome>()];
    const { calls, activities } = checkStub((_check, index) => gates[index]?.promise ?? 'recorded');
    await temporal.withWorker(activities, async (taskQueue) => {
      const t0 = Date.now();
      const handle = await sight(temporal.client, taskQueue, objectId, t0);
      await calls.reach(1);
      await handle.signal(sightedSignal, t0 + 200);
      await calls.reach(2);
      // Two checks run; of these, one waits: the newest, not the last one sent. Those no newer
      // than the running check's sighting are answered by it.
      for (const receivedAtMs of [t0 + 300, t0 + 500, t0 + 400, t0 + 100, t0 + 200]) {
        await handle.signal(sightedSignal, receivedAtMs);
      }
      await eventually(async () => {
        const state = await handle.query(checkStateQuery);
        return state.pendingReceivedAtMs === t0 + 500 ? state : undefined;
      }, 'the newest sighting to wait');
      await sleep(300);
      assert.equal(calls.list.length, 2, 'at most two checks at once');
      gates[1]!.open('recorded');
      await calls.reach(3);
      gates[0]!.open('recorded');
      await handle.result();
      assert.deepEqual(
        calls.list.map(({ receivedAtMs }) => receivedAtMs - t0),
        [0, 200, 500],
      );
    });
  });

  it('watches its idle window with fewer timers than checks, and still waits the whole window after its last check', async () => {
    const objectId = nextObjectId++;
    // Long enough that the quick checks below all fall into the first half of one window.
    const idleTimeoutMs = 4_000;
    let checkedAt = 0;
    const { calls, activities } = checkStub(() => {
      checkedAt = Date.now();
      return 'recorded';
    });
    await temporal.withWorker(activities, async (taskQueue) => {
      const sightAt = (receivedAtMs: number) =>
        temporal.client.workflow.signalWithStart(objectPresenceWorkflow, {
          workflowId: objectWorkflowId(objectId),
          taskQueue,
          args: [{ objectId, idleTimeoutMs }],
          signal: sightedSignal,
          signalArgs: [receivedAtMs],
        });
      const t0 = Date.now();
      const handle = await sightAt(t0);
      // Sighted again after each check, within the idle window.
      for (let i = 1; i <= 4; i += 1) {
        await calls.reach(i);
        await sightAt(t0 + i);
      }
      await handle.result();
      const idleFor = Date.now() - checkedAt;
      assert.equal(calls.list.length, 5);
      assert.ok(
        idleFor >= idleTimeoutMs,
        `completed ${idleFor} ms after its last check, before the idle window passed`,
      );
      const events = (await handle.fetchHistory()).events ?? [];
      const timers = events.filter((event) => event.timerStartedEventAttributes).length;
      assert.ok(timers < calls.list.length, `${timers} timers for ${calls.list.length} checks`);
    });
  });

  it('completes once the idle window passes without a sighting', async () => {
    const objectId = nextObjectId++;
    let checkedAt = 0;
    const { calls, activities } = checkStub(() => {
      checkedAt = Date.now();
      return 'offline';
    });
    await temporal.withWorker(activities, async (taskQueue) => {
      const handle = await sight(temporal.client, taskQueue, objectId, Date.now());
      await handle.result();
      const idleFor = Date.now() - checkedAt;
      assert.equal(calls.list.length, 1);
      assert.ok(idleFor >= IDLE_MS, `completed ${idleFor} ms after its check, before the idle window passed`);
      assert.ok(idleFor < IDLE_MS + 5_000, `completed ${idleFor} ms after its check`);
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
    });
  });

  it('takes a sighting that arrives within the idle window into the same run', async () => {
    const objectId = nextObjectId++;
    let checkedAt = 0;
    const { calls, activities } = checkStub(() => {
      checkedAt = Date.now();
      return 'recorded';
    });
    await temporal.withWorker(activities, async (taskQueue) => {
      const t0 = Date.now();
      const handle = await sight(temporal.client, taskQueue, objectId, t0);
      await calls.reach(1);
      await sleep(IDLE_MS / 3);
      const again = await sight(temporal.client, taskQueue, objectId, t0 + 1);
      await calls.reach(2);
      await handle.result();
      const idleFor = Date.now() - checkedAt;

      assert.equal(again.signaledRunId, handle.signaledRunId, 'the second sighting started a new run');
      assert.deepEqual(
        calls.list.map(({ receivedAtMs, runId }) => [receivedAtMs, runId]),
        [
          [t0, handle.signaledRunId],
          [t0 + 1, handle.signaledRunId],
        ],
      );
      // The window starts again after each check.
      assert.ok(idleFor >= IDLE_MS, `completed ${idleFor} ms after its second check`);
    });
  });

  it("when an older check fails for good, a newer sighting's check answers for the object", async () => {
    const objectId = nextObjectId++;
    const t0 = Date.now();
    const failing = new Gate<CheckOutcome>();
    const { calls, activities } = checkStub(({ receivedAtMs }) => (receivedAtMs === t0 ? failing.promise : 'offline'));
    await temporal.withWorker(activities, async (taskQueue) => {
      const handle = await sight(temporal.client, taskQueue, objectId, t0);
      await calls.reach(1);
      await handle.signal(sightedSignal, t0 + 1);
      await calls.reach(2);
      failing.fail(rejected());
      await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      assert.equal((await handle.query(checkStateQuery)).lastOutcome, 'offline');
    });
  });

  it('fails, visibly, when its newest check fails for good', async () => {
    const objectId = nextObjectId++;
    const { calls, activities } = checkStub(() => Promise.reject(rejected()));
    await temporal.withWorker(activities, async (taskQueue) => {
      const handle = await sight(temporal.client, taskQueue, objectId, Date.now());
      await assert.rejects(handle.result(), (error) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
        assert.equal(error.cause.type, 'ObjectService.rejected');
        return true;
      });
      assert.equal((await handle.describe()).status.name, 'FAILED');
      assert.equal(calls.list.length, 1, 'a failure for good is not retried');
    });
  });
});
