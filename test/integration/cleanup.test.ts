import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { noopMetricMeter } from '@temporalio/common';
import { createObjectActivities } from '../../src/activities/object-activities';
import { ObjectServiceClient } from '../../src/activities/object-service';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { CLEANUP_SCHEDULE_ID, ensureCleanupSchedule } from '../../src/worker/cleanup-schedule';
import { createWorkerMetrics } from '../../src/worker/metrics';
import { TestStack } from '../support/stack';
import { eventually } from '../../dev/support/wait';

/** A TTL under which the test can put in rows older than the service's own, on purpose. */
const ANY_AGE = 3_600;

describe('expiry on a real Temporal server and PostgreSQL', () => {
  let stack: TestStack;
  let objects: ObjectsRepository;

  before(async () => {
    stack = await TestStack.start({ objectServiceUrl: 'http://127.0.0.1:1' });
    objects = new ObjectsRepository(stack.db);
  });
  after(() => stack?.stop());

  it('the schedule deletes stale rows and keeps fresh ones', async () => {
    const now = Date.now();
    await objects.recordSeen(1, new Date(now - 60_000), ANY_AGE);
    await objects.recordSeen(2, new Date(now - 31_000), ANY_AGE);
    await objects.recordSeen(3, new Date(now - 5_000), ANY_AGE);
    await objects.recordSeen(4, new Date(now + 60_000), ANY_AGE);
    await ensureCleanupSchedule(stack.client, { taskQueue: stack.taskQueue, intervalSeconds: 1 });

    await eventually(async () => ((await stack.rows()).size === 2 ? true : undefined), 'the stale rows to go');
    assert.deepEqual([...(await stack.rows()).keys()], [3, 4]);
  });

  it('brings an existing schedule to the current settings instead of failing', async () => {
    await ensureCleanupSchedule(stack.client, { taskQueue: stack.taskQueue, intervalSeconds: 7 });
    await ensureCleanupSchedule(stack.client, { taskQueue: stack.taskQueue, intervalSeconds: 7 });
    const description = await stack.client.schedule.getHandle(CLEANUP_SCHEDULE_ID).describe();
    assert.equal(description.spec.intervals?.[0]?.every, 7_000);
    assert.equal(description.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(description.action.type, 'startWorkflow');
    assert.deepEqual(description.action.type === 'startWorkflow' && description.action.args, []);
    // On the cleanup's own task queue, where no hand-out can take its worker's slots.
    assert.equal(
      description.action.type === 'startWorkflow' && description.action.taskQueue,
      `${stack.taskQueue}-cleanup`,
    );
  });

  it("deletes by the worker's own TTL", async () => {
    const now = Date.now();
    await objects.recordSeen(81, new Date(now - 15_000), ANY_AGE);
    await objects.recordSeen(82, new Date(now - 5_000), ANY_AGE);
    const activities = createObjectActivities({
      objectService: new ObjectServiceClient('http://127.0.0.1:1'),
      objects,
      objectTtlSeconds: 10,
      metrics: createWorkerMetrics(noopMetricMeter).objects,
    });
    const deleted = (await new MockActivityEnvironment().run(activities.deleteStaleObjects)) as number;
    assert.ok(deleted >= 1, `deleted ${deleted}`);
    const rows = await stack.rows();
    assert.equal(rows.has(81), false);
    assert.equal(rows.has(82), true);
  });
});
