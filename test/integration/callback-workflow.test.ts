import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { noopMetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHandOut } from '../../src/activities/hand-out';
import { SightingDispatcher } from '../../src/activities/sighting-dispatcher';
import { createSightingSignal } from '../../src/activities/sighting-signal';
import { objectWorkflowId } from '../../src/workflows';
import { TestStack } from '../support/stack';
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
