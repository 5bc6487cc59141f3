import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CallbackDriver } from '../support/callback-driver';
import { runningSystem } from '../support/fault-harness';
import { eventually } from '../../dev/support/wait';

describe('PostgreSQL is unreachable for a while', () => {
  const system = runningSystem({ latencyMs: [50, 300] });

  it('keeps accepting, reports the outage, retries the writes and lands them once it is back', async (t) => {
    const harness = system();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10);
    driver.start(200);
    await sleep(1_500);
    const cutAt = Date.now();
    await harness.proxy.cut();
    await sleep(4_000);
    const readiness = await harness.readiness();
    const openAt = Date.now();
    await harness.proxy.open();
    await sleep(1_000);

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
    t.diagnostic(`${summary}`);
    // Callbacks are still recorded, in Temporal: the API stays ready and says what is away.
    assert.equal(readiness.status, 200);
    assert.deepEqual(
      { temporal: readiness.body.temporal, database: readiness.body.database },
      { temporal: true, database: false },
    );
    // The database plays no part in accepting while Temporal answers. A start can still miss the
    // 900 ms deadline when the dev server is starved of CPU; with the outbox away too, that callback
    // is answered late or not at all, never refused, since its start may land.
    const statuses = totals.answers.map(({ status }) => status);
    const duringOutage = totals.answers.filter(({ sentAt }) => sentAt >= cutAt && sentAt < openAt);
    const acceptedDuringOutage = duringOutage.filter(({ status }) => status === 202).length;
    assert.ok(
      acceptedDuringOutage > duringOutage.length / 2,
      `${acceptedDuringOutage} of ${duringOutage.length} accepted during the outage`,
    );
    assert.ok(
      statuses.every((status) => status === 202 || status === 0),
      `answers: ${JSON.stringify(statuses)}`,
    );
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
  });

  it('the cleanup schedule keeps running through the outage', async () => {
    const harness = system();
    // A row that turns older than the harness's TTL (1 h) a second into the outage, written
    // straight to the database.
    await harness.insertRow(999_999_999, new Date(Date.now() - 3_600_000 + 1_000));
    await harness.proxy.cut();
    await sleep(3_000);
    await harness.proxy.open();
    // The cleanup retried its delete through the outage: its next try, at most the 10 s backoff cap
    // later, takes the row, with the 1 s schedule and 2 s for the run.
    await eventually(
      async () => ((await harness.countRows(new Set([999_999_999]))) === 0 ? true : undefined),
      'the cleanup to delete the stale row',
      13_000,
    );
  });

  it("the worker's Prometheus endpoint exports the SDK's metrics and the deletions", async () => {
    const text = await (await fetch(system().workerMetricsUrl)).text();
    assert.match(text, /temporal_workflow_task_execution_latency/);
    // Made once on the Runtime's meter, with the worker's other metrics: no per-activity labels.
    assert.match(text, /^presence_objects_deleted_total(\{[^}]*\})? [1-9]/m);
  });
});
