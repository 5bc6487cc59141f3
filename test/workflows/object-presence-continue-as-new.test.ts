import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import { objectWorkflowId, sightedSignal, type CheckResult, type ObjectPresenceInput } from '../../src/workflows';
import { Calls, IDLE_MS, sight, sleep, WorkflowTestServer } from './support';

/**
 * The server suggests continue-as-new once a run's history has this many events (4,096 by
 * default): a handful of checks here instead of hundreds.
 */
const SUGGEST_CONTINUE_AS_NEW_AT = 20;

describe('objectPresenceWorkflow continuing as new, on a real Temporal server, checks stubbed', () => {
  let temporal: WorkflowTestServer;

  before(async () => {
    temporal = await WorkflowTestServer.start({
      'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AT,
    });
  });
  after(() => temporal?.stop());

  it('carries the waiting sighting and the idle window over to the new run', async () => {
    const objectId = 1;
    const calls = new Calls<{ receivedAtMs: number; runId: string }>();
    const activities = {
      checkObject(_objectId: number, receivedAtMs: number): Promise<CheckResult> {
        calls.record({ receivedAtMs, runId: String(Context.current().info.workflowExecution?.runId) });
        return Promise.resolve({ outcome: 'recorded', askedAtMs: receivedAtMs });
      },
    };
    await temporal.withWorker(activities, async (taskQueue) => {
      const t0 = Date.now();
      const handle = await sight(temporal.client, taskQueue, objectId, t0);
      const firstRunId = handle.signaledRunId;
      await calls.reach(1);
      // One sighting after another, each once the previous one is checked, until a check runs
      // in a new run.
      let sent = 1;
      while (calls.list.at(-1)?.runId === firstRunId) {
        assert.ok(sent < 15, `no continue-as-new after ${sent} sightings`);
        await handle.signal(sightedSignal, t0 + sent);
        sent += 1;
        await calls.reach(sent);
      }
      await handle.result();

      // Every sighting checked once, in order: the one waiting at the switch was checked first
      // thing in the new run, not lost and not checked twice.
      const checked = calls.list.map(({ receivedAtMs }) => receivedAtMs - t0);
      assert.deepEqual(
        checked,
        Array.from({ length: sent }, (_, i) => i),
      );
      const secondRunId = calls.list.at(-1)!.runId;
      assert.ok(calls.list.slice(0, -1).every(({ runId }) => runId === firstRunId));

      const firstRun = temporal.client.workflow.getHandle(objectWorkflowId(objectId), firstRunId);
      assert.equal((await firstRun.describe()).status.name, 'CONTINUED_AS_NEW');
      const events = (await firstRun.fetchHistory()).events ?? [];
      const continued = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
      assert.ok(continued, 'the first run ends in continue-as-new');
      assert.equal(continued.newExecutionRunId, secondRunId);
      const { memory, ...input } = defaultPayloadConverter.fromPayload<ObjectPresenceInput>(
        continued.input!.payloads![0]!,
      );
      assert.deepEqual(input, { objectId, idleTimeoutMs: IDLE_MS });
      // Everything its checks depend on: the waiting sighting, the last check's and its answer, the row.
      const { lastCheckAtMs, ...known } = memory ?? {};
      const lastChecked = t0 + sent - 2;
      assert.deepEqual(known, {
        pendingReceivedAtMs: t0 + sent - 1,
        startedReceivedAtMs: lastChecked,
        rowSeenAtMs: lastChecked,
        answer: { askedAtMs: lastChecked, online: true },
      });
      assert.ok(
        lastCheckAtMs !== undefined && lastCheckAtMs >= t0,
        'and when its last check started, for the interval',
      );
      // The new run kept the short window: it completed within seconds, not 30 s.
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
    });
  });

  it("with a check interval, keeps a sighted object's row from lapsing across runs", async () => {
    const objectId = 2;
    const interval = { minMs: 60_000, maxRowAgeMs: 1_500 };
    const calls = new Calls<{ receivedAtMs: number; startedAtMs: number; runId: string }>();
    const activities = {
      checkObject(_objectId: number, receivedAtMs: number): Promise<CheckResult> {
        const runId = String(Context.current().info.workflowExecution?.runId);
        calls.record({ receivedAtMs, startedAtMs: Date.now(), runId });
        return Promise.resolve({ outcome: 'recorded', askedAtMs: receivedAtMs });
      },
    };
    await temporal.withWorker(activities, async (taskQueue) => {
      const t0 = Date.now();
      const handle = await sight(temporal.client, taskQueue, objectId, t0, { interval });
      // Sighted every 200 ms, as a fleet's callbacks would, until two checks ran in a later run.
      const laterRunChecks = () => calls.list.filter(({ runId }) => runId !== handle.signaledRunId).length;
      while (laterRunChecks() < 2) {
        assert.ok(Date.now() - t0 < 20_000, `${calls.list.length} checks in 20 s, ${laterRunChecks()} in a later run`);
        await sleep(200);
        await handle.signal(sightedSignal, Date.now(), interval);
      }
      // Each check came when the row it followed grew the row age old, in every run, not an interval later.
      const lateness = calls.list.slice(1).map(({ startedAtMs }, i) => startedAtMs - calls.list[i]!.receivedAtMs);
      assert.ok(
        lateness.every((ms) => ms <= interval.maxRowAgeMs + 1_500),
        `checks ${lateness.join(', ')} ms after the sighting before them`,
      );
    });
  });
});
