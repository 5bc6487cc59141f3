import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CheckOutcome, CheckResult } from '../../src/workflows';
import { checkStateQuery, CLOCK_SKEW_MS, sightedSignal } from '../../src/workflows';
import { eventually } from '../../dev/support/wait';
import { Calls, Gate, IDLE_MS, sight, sleep, WorkflowTestServer } from './support';

interface Check {
  objectId: number;
  receivedAtMs: number;
  runId: string;
}

/**
 * Stubs of checkObject and recordSighting: they record each call, and the test decides how each
 * check ends. A bare outcome says the check asked at its own sighting's receipt time.
 */
function checkStub(
  outcome: (check: Check, index: number) => CheckOutcome | CheckResult | Promise<CheckOutcome | CheckResult>,
) {
  const calls = new Calls<Check>();
  const recorded = new Calls<number>();
  const activities = {
    async checkObject(objectId: number, receivedAtMs: number): Promise<CheckResult> {
      const check = { objectId, receivedAtMs, runId: String(Context.current().info.workflowExecution?.runId) };
      calls.record(check);
      const result = await outcome(check, calls.list.length - 1);
      return typeof result === 'string' ? { outcome: result, askedAtMs: receivedAtMs } : result;
    },
    recordSighting(_objectId: number, receivedAtMs: number): Promise<CheckOutcome> {
      recorded.record(receivedAtMs);
      return Promise.resolve('recorded');
    },
  };
  return { calls, recorded, activities };
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

  it('coalesces sightings that arrive during a check into one more check of the newest', async () => {
    const objectId = nextObjectId++;
    const firstCheck = new Gate<CheckOutcome>();
    const { calls, activities } = checkStub((_check, index) => (index === 0 ? firstCheck.promise : 'recorded'));
    await temporal.withWorker(activities, async (taskQueue) => {
      const t0 = Date.now();
      const handle = await sight(temporal.client, taskQueue, objectId, t0);
      await calls.reach(1);
      // Received after the first check asked, beyond the clocks' skew. The newest is not the last
      // one sent: the newest receipt time wins, not the latest signal.
      const after = t0 + CLOCK_SKEW_MS;
      for (const receivedAtMs of [after + 100, after + 300, after + 200, after + 300, after + 100]) {
        await handle.signal(sightedSignal, receivedAtMs);
      }
      firstCheck.open('recorded');
      await calls.reach(2);
      // Signalled again later (a hand-out retried on another worker): the check that started answers
      // for a sighting received the skew before its own.
      await handle.signal(sightedSignal, after + 300 - CLOCK_SKEW_MS);
      await handle.result();
      assert.deepEqual(
        calls.list.map(({ receivedAtMs }) => receivedAtMs - t0),
        [0, CLOCK_SKEW_MS + 300],
      );
    });
  });

  for (const answer of ['recorded', 'offline'] as const) {
    it(`a sighting received the clock skew before the latest check asked is answered by it without asking again (${answer}: ${answer === 'recorded' ? 'written' : 'nothing written'}); a later one is asked for`, async () => {
      const objectId = nextObjectId++;
      const t0 = Date.now();
      // The check's request went out, by the worker's clock, 2.5 s after its sighting was received
      // by the API's; offline, a wrongly covered sighting would get no row.
      const askedAfterMs = CLOCK_SKEW_MS + 500;
      const { calls, recorded, activities } = checkStub(({ receivedAtMs }) => ({
        outcome: answer,
        askedAtMs: receivedAtMs + askedAfterMs,
      }));
      await temporal.withWorker(activities, async (taskQueue) => {
        const handle = await sight(temporal.client, taskQueue, objectId, t0);
        await calls.reach(1);
        await eventually(async () => ((await handle.query(checkStateQuery)).checking ? undefined : true), 'the check');
        // Its signal came after the check, but it was received before the request went out by more than the skew.
        await handle.signal(sightedSignal, t0 + 500);
        await eventually(async () => {
          const state = await handle.query(checkStateQuery);
          return state.checkedReceivedAtMs === t0 + 500 ? true : undefined;
        }, 'the covered sighting to be answered');
        // Received before the request by the two clocks, but by less than the skew: it may come after.
        await handle.signal(sightedSignal, t0 + 501);
        await calls.reach(2);
        await handle.result();
        assert.deepEqual(
          recorded.list,
          answer === 'recorded' ? [t0 + 500] : [],
          'an online answer writes the covered sighting, an offline one nothing',
        );
        assert.deepEqual(
          calls.list.map(({ receivedAtMs }) => receivedAtMs - t0),
          [0, 501],
        );
      });
    });
  }

  it('with a check interval, checks at most once per interval however often sightings come, the newest at each', async () => {
    const objectId = nextObjectId++;
    const minMs = 1_500;
    const checkedAt: number[] = [];
    // Offline: with no row to keep, nothing but the interval decides when the next check starts.
    const { calls, activities } = checkStub(() => {
      checkedAt.push(Date.now());
      return 'offline';
    });
    await temporal.withWorker(activities, async (taskQueue) => {
      const sightAt = (receivedAtMs: number) =>
        sight(temporal.client, taskQueue, objectId, receivedAtMs, { interval: { minMs, maxRowAgeMs: 60_000 } });
      // Sightings every 100 ms for 3.5 s, as several workers' hand-outs would send them.
      const t0 = Date.now();
      let handle = await sightAt(t0);
      let sent = t0;
      while (Date.now() - t0 < 3_500) {
        await sleep(100);
        sent = Date.now();
        handle = await sightAt(sent);
      }
      await eventually(async () => {
        const state = await temporal.client.workflow.getHandle(handle.workflowId).query(checkStateQuery);
        return state.checkedReceivedAtMs === sent ? state : undefined;
      }, 'the newest sighting to be checked');
      const gaps = checkedAt.slice(1).map((at, i) => at - checkedAt[i]!);
      assert.ok(calls.list.length <= 4, `${calls.list.length} checks in 3.5 s`);
      assert.ok(
        gaps.every((gap) => gap >= minMs - 200),
        `checks ${gaps.join(', ')} ms apart`,
      );
    });
  });

  it('with a check interval, checks a waiting sighting sooner when its row would lapse first', async () => {
    const objectId = nextObjectId++;
    const { calls, activities } = checkStub(() => 'recorded');
    await temporal.withWorker(activities, async (taskQueue) => {
      const sightAt = (receivedAtMs: number) =>
        sight(temporal.client, taskQueue, objectId, receivedAtMs, { interval: { minMs: 10_000, maxRowAgeMs: 3_000 } });
      const t0 = Date.now();
      const handle = await sightAt(t0);
      await calls.reach(1);
      await sightAt(t0 + 1);
      await eventually(async () => {
        const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        return currentDetails?.includes('next check due at') ? true : undefined;
      }, 'the Web UI to say when the next check is due');
      await calls.reach(2, 6_000);
      // The row's age reaches 3 s at t0 + 3 s by this machine's clock, which the server's timers read
      // too; they fire within a second of their time.
      const secondAt = calls.times[1]! - t0;
      assert.ok(secondAt >= 3_000 && secondAt < 4_000, `the second check came ${secondAt} ms after the first sighting`);
      assert.equal(calls.list[1]!.receivedAtMs, t0 + 1);
    });
  });

  it('follows the check interval of its latest sighting, so a changed interval reaches a running object', async () => {
    const objectId = nextObjectId++;
    const { calls, activities } = checkStub(() => 'offline');
    await temporal.withWorker(activities, async (taskQueue) => {
      const t0 = Date.now();
      const handle = await sight(temporal.client, taskQueue, objectId, t0, {
        interval: { minMs: 60_000, maxRowAgeMs: 60_000 },
      });
      await calls.reach(1);
      await handle.signal(sightedSignal, t0 + 1, { minMs: 60_000, maxRowAgeMs: 60_000 });
      await eventually(async () => {
        const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        return currentDetails?.includes('next check due at') ? true : undefined;
      }, 'the sighting to wait for the next check, a minute away');
      // A worker restarted with a shorter interval signals the next sighting.
      await handle.signal(sightedSignal, t0 + 2, { minMs: 500, maxRowAgeMs: 60_000 });
      await calls.reach(2, 5_000);
      assert.equal(calls.list[1]!.receivedAtMs, t0 + 2);
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
        sight(temporal.client, taskQueue, objectId, receivedAtMs, { input: { idleTimeoutMs } });
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

  it('checks a sighting that came in while a check failed for good, instead of failing', async () => {
    const objectId = nextObjectId++;
    const t0 = Date.now();
    const failing = new Gate<CheckOutcome>();
    const { calls, activities } = checkStub(({ receivedAtMs }) => (receivedAtMs === t0 ? failing.promise : 'offline'));
    await temporal.withWorker(activities, async (taskQueue) => {
      const handle = await sight(temporal.client, taskQueue, objectId, t0);
      await calls.reach(1);
      await handle.signal(sightedSignal, t0 + 1);
      failing.fail(rejected());

      // A check shorter than a workflow task: the server turns down the workflow's failure
      // because a sighting is waiting unread, and the workflow, run again with both sightings,
      // coalesces them into one check of the newer.
      await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      const checked = calls.list.map(({ receivedAtMs }) => receivedAtMs);
      assert.equal(checked.at(-1), t0 + 1, `checked ${checked.join(', ')}`);
      assert.equal(checked.filter((receivedAtMs) => receivedAtMs === t0 + 1).length, 1);
    });
  });

  it('after a long check fails for good, goes on to the sighting that waited behind it', async () => {
    const objectId = nextObjectId++;
    const t0 = Date.now();
    const failing = new Gate<CheckOutcome>();
    const { calls, activities } = checkStub(({ receivedAtMs }) => (receivedAtMs === t0 ? failing.promise : 'offline'));
    await temporal.withWorker(activities, async (taskQueue) => {
      // A check that outlasts most of a workflow task's timeout (retries against a struggling
      // object service, say) lets the workflow take in sightings while it runs. A one-second
      // timeout brings that about in a second instead of eight.
      const handle = await sight(temporal.client, taskQueue, objectId, t0, { workflowTaskTimeout: '1s' });
      await calls.reach(1);
      await handle.signal(sightedSignal, t0 + 1);
      await eventually(async () => {
        const state = await handle.query(checkStateQuery);
        return state.checking && state.pendingReceivedAtMs === t0 + 1 ? true : undefined;
      }, 'the workflow to hold the newer sighting while the check runs');
      failing.fail(rejected());

      await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      assert.deepEqual(
        calls.list.map(({ receivedAtMs }) => receivedAtMs),
        [t0, t0 + 1],
      );
    });
  });

  it('fails, visibly, when a check fails for good and no newer sighting waits', async () => {
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
