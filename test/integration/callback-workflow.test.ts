import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { noopMetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHandOut } from '../../src/activities/hand-out';
import { SightingDispatcher } from '../../src/activities/sighting-dispatcher';
import { createSightingSignal } from '../../src/activities/sighting-signal';
import { KEY_REUSED } from '../../src/api/callback-schema';
import { objectWorkflowId } from '../../src/workflows';
import { TestStack } from '../support/stack';
import { recordedCallback } from '../support/recorded-callback';
import { workflowExists } from '../support/workflow-exists';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

describe('callback workflows on a real Temporal server', () => {
  let objectService: StubObjectService;
  let stack: TestStack;

  before(async () => {
    objectService = await startStubObjectService((id, _attempt, response) =>
      answer(response, 200, { id, online: true }),
    );
    stack = await TestStack.start({ objectServiceUrl: objectService.url });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  const postWithKey = (key: string, objectIds: number[]) =>
    fetch(stack.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ object_ids: objectIds }),
    });

  // Describe, not a visibility count: the list lags the start it would have to show.
  it('records a callback once per Idempotency-Key, while it runs and after it finished', async () => {
    const sentAt = Date.now();
    const concurrent = await Promise.all([postWithKey('repeat-1', [700]), postWithKey('repeat-1', [700])]);
    assert.deepEqual(
      concurrent.map(({ status }) => status),
      [202, 202],
    );
    await stack.client.workflow.getHandle('callback-key-repeat-1').result();
    assert.equal((await postWithKey('repeat-1', [700])).status, 202);
    await stack.checked(700, sentAt);

    const { count } = await stack.client.workflow.count('WorkflowId = "callback-key-repeat-1"');
    assert.equal(count, 1);
    assert.equal(objectService.attempts.get(700), 1, 'one sighting, so one check');
  });

  it('answers a repeat of an Idempotency-Key with other ids 422, while its callback runs and after, and records nothing of it', async () => {
    const workflowId = 'callback-key-reused-1';
    const expectReused = async (objectIds: number[]) => {
      const response = await postWithKey('reused-1', objectIds);
      assert.equal(response.status, 422, `ids ${objectIds}`);
      assert.deepEqual(await response.json(), KEY_REUSED);
    };
    const expectRecorded = async (objectIds: number[]) => {
      const response = await postWithKey('reused-1', objectIds);
      assert.equal(response.status, 202, `ids ${objectIds}`);
      assert.deepEqual(await response.json(), { accepted: 2 });
    };
    const sentAt = Date.now();
    // No worker: the callback's workflow runs until one comes.
    await stack.stopWorker();
    let recorded;
    try {
      await expectRecorded([730, 731]);
      recorded = await recordedCallback(stack.client, workflowId);
      assert.deepEqual(recorded.objectIds, [730, 731]);
      assert.equal((await stack.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');
      for (const other of [[732], [731, 730], [730, 731, 732]]) await expectReused(other);
      // The same distinct ids in the same order: the same body.
      await expectRecorded([730, 731, 730]);
    } finally {
      await stack.startWorker();
    }
    await stack.client.workflow.getHandle(workflowId).result();
    await expectReused([732]);
    await expectRecorded([730, 731]);
    assert.deepEqual(await recordedCallback(stack.client, workflowId), recorded, 'the first callback, unchanged');
    await stack.checked(731, sentAt);
    assert.equal(objectService.attempts.get(732), undefined);
  });

  const handOut = (objectTtlSeconds = 30) => {
    const dispatcher = new SightingDispatcher({
      deliver: createSightingSignal({ client: stack.client, taskQueue: stack.taskQueue }),
      concurrency: { signals: 4, starts: 4 },
      ttlMs: objectTtlSeconds * 1000,
    });
    return createHandOut({ dispatcher, metrics: { expired: noopMetricMeter.createCounter('expired') } });
  };

  it('resumes a hand-out at its last checkpoint instead of the start', async () => {
    const retry = new MockActivityEnvironment({ heartbeatDetails: 2 });
    const result = await retry.run(handOut(), [710, 711, 712, 713], Date.now());
    assert.deepEqual(result, { handedOut: 4, expired: 0 });
    assert.deepEqual(
      await Promise.all([710, 711, 712, 713].map((id) => workflowExists(stack.client, objectWorkflowId(id)))),
      [false, false, true, true],
    );
  });

  it('hands out nothing of a callback older than the TTL', async () => {
    const result = await new MockActivityEnvironment().run(handOut(30), [720, 721], Date.now() - 31_000);
    assert.deepEqual(result, { handedOut: 0, expired: 2 });
    assert.equal(await workflowExists(stack.client, objectWorkflowId(720)), false);
  });
});
