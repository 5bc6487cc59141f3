import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { callbackWorkflowId } from '../../src/callbacks/workflow-start';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { CLOCK_SKEW_MS, objectWorkflowId } from '../../src/workflows';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { TestStack } from '../support/stack';
import { eventually } from '../../dev/support/wait';

type Behaviour = (attempt: number, response: ServerResponse) => void;

/** Even ids online, odd ids offline, after a short delay: the object service when all is well. */
const healthy =
  (id: number, delayMs = 20): Behaviour =>
  (_attempt, response) =>
    setTimeout(() => answer(response, 200, { id, online: id % 2 === 0 }), delayMs);

describe('presence tracking on a real Temporal server and PostgreSQL', () => {
  const behaviours = new Map<number, Behaviour>();
  const attemptTimes = new Map<number, number[]>();
  let objectService: StubObjectService;
  let stack: TestStack;

  before(async () => {
    objectService = await startStubObjectService((id, attempt, response) => {
      attemptTimes.set(id, [...(attemptTimes.get(id) ?? []), Date.now()]);
      (behaviours.get(id) ?? healthy(id))(attempt, response);
    });
    stack = await TestStack.start({ objectServiceUrl: objectService.url });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  it('turns a callback into rows for the online ids only', async () => {
    const sentAt = Date.now();
    const { status, body } = await stack.postCallback([2, 4, 6, 1, 3, 4]);
    const answeredAt = Date.now();
    assert.equal(status, 202);
    assert.deepEqual(body, { accepted: 5 });
    const [online, , , offline] = await Promise.all([2, 4, 6, 1, 3].map((id) => stack.checked(id, sentAt)));
    assert.equal(online?.lastOutcome, 'recorded');
    assert.equal(offline?.lastOutcome, 'offline');
    assert.equal(
      online?.checkedReceivedAt,
      new Date(online?.checkedReceivedAtMs ?? 0).toISOString(),
      'the query gives readable times',
    );

    const rows = await stack.rows();
    assert.deepEqual(
      [...rows.keys()].filter((id) => id < 10),
      [2, 4, 6],
    );
    for (const id of [2, 4, 6]) {
      const lastSeen = rows.get(id)?.getTime() ?? 0;
      // The API stamps its receipt between the sending and the answer, on this machine's clock.
      assert.ok(sentAt <= lastSeen && lastSeen <= answeredAt, `last_seen of ${id} is the receipt time`);
      assert.equal(objectService.attempts.get(id), 1);
    }
    assert.equal(objectService.attempts.get(1), 1, 'offline ids are checked too');
  });

  it('coalesces an id repeated while its check runs, and the newest receipt wins', async () => {
    const id = 100;
    // Answers slower than the whole burst takes to arrive: the first check, then one for the newest.
    behaviours.set(id, healthy(id, 2_000));
    let lastSentAt = 0;
    let lastAnsweredAt = 0;
    for (let i = 0; i < 10; i += 1) {
      lastSentAt = Date.now();
      assert.equal((await stack.postCallback([id])).status, 202);
      lastAnsweredAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await stack.checked(id, lastSentAt);
    const lastSeen = (await stack.rows()).get(id)?.getTime() ?? 0;
    assert.ok(lastSentAt <= lastSeen && lastSeen <= lastAnsweredAt, 'last_seen is the last receipt');
    assert.ok(
      (objectService.attempts.get(id) ?? 0) <= 2,
      `10 sightings in at most 2 requests, saw ${objectService.attempts.get(id)}`,
    );
  });

  it('bounds the checks when 50 callbacks carry the same id at once', async () => {
    const id = 102;
    // The first check answers once every callback is in and the clocks' skew has passed, so the
    // check after it asks late enough to answer for every sighting, however late its signal.
    let allIn!: () => void;
    const answerFirst = new Promise<void>((resolve) => (allIn = resolve));
    behaviours.set(id, (attempt, response) =>
      attempt === 1 ? void answerFirst.then(() => healthy(id)(attempt, response)) : healthy(id, 500)(attempt, response),
    );
    const before = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => stack.postCallback([id])));
    const after = Date.now();
    setTimeout(allIn, CLOCK_SKEW_MS);
    assert.ok(answers.every(({ status }) => status === 202));
    await stack.checked(id, before);
    const checks = objectService.attempts.get(id) ?? 0;
    assert.ok(checks >= 1 && checks <= 2, `bounded checks, saw ${checks}`);
    const lastSeen = (await stack.rows()).get(id)?.getTime() ?? 0;
    assert.ok(lastSeen >= before && lastSeen <= after);
  });

  it('retries 5xx, malformed and mismatched answers with growing backoff, then records', async () => {
    const id = 200;
    behaviours.set(id, (attempt, response) => {
      if (attempt === 1) answer(response, 503, 'overloaded');
      else if (attempt === 2) answer(response, 200, '{"id": 200, "onl');
      else if (attempt === 3) answer(response, 200, { id: 201, online: true });
      else answer(response, 200, { id, online: true });
    });
    const sentAt = Date.now();
    assert.equal((await stack.postCallback([id])).status, 202);
    await stack.checked(id, sentAt);
    assert.equal(objectService.attempts.get(id), 4);
    assert.ok((await stack.rows()).has(id));
    const times = attemptTimes.get(id) ?? [];
    const gaps = times.slice(1).map((time, i) => time - (times[i] as number));
    assert.ok(gaps[0]! >= 400, `first retry after the initial interval, gaps ${gaps}`);
    assert.ok(gaps[2]! > gaps[0]!, `backoff grows, gaps ${gaps}`);
  });

  it('recovers from failures that outlast a check, without an earlier attempt cutting the answer short', async () => {
    const id = 204;
    const failingForMs = 11_000;
    let firstAttemptAt = 0;
    behaviours.set(id, (attempt, response) => {
      if (attempt === 1) firstAttemptAt = Date.now();
      if (Date.now() - firstAttemptAt < failingForMs) answer(response, 503, 'overloaded');
      else setTimeout(() => answer(response, 200, { id, online: true }), 3_000);
    });
    const sentAt = Date.now();
    assert.equal((await stack.postCallback([id])).status, 202);
    await stack.checked(id, sentAt, 60_000);
    assert.ok((await stack.rows()).has(id));
    const afterRecovery = (attemptTimes.get(id) ?? []).filter((time) => time - firstAttemptAt >= failingForMs);
    assert.equal(afterRecovery.length, 1, 'the first request after the failures was answered and written');
  });

  it('retries a hung request after the per-request timeout', async () => {
    const id = 202;
    behaviours.set(id, (attempt, response) => {
      if (attempt > 1) answer(response, 200, { id, online: true });
    });
    const sentAt = Date.now();
    assert.equal((await stack.postCallback([id])).status, 202);
    await stack.checked(id, sentAt);
    assert.equal(objectService.attempts.get(id), 2);
    assert.ok((await stack.rows()).has(id));
    // The hung request is given up at its 5 s timeout (docs/how-it-works.md), not at the check's
    // own 10 s, and retried after the first backoff, half a second.
    const [first = 0, second = 0] = attemptTimes.get(id) ?? [];
    assert.ok(
      second - first >= 5_500 && second - first < 6_500,
      `retried ${second - first} ms after the first request`,
    );
  });

  it('does not retry a rejected id, and fails its workflow visibly', async () => {
    const id = 300;
    behaviours.set(id, (_attempt, response) => answer(response, 400, 'invalid id'));
    assert.equal((await stack.postCallback([id])).status, 202);
    // The object's workflow starts once the callback's ids are handed out, just after the 202.
    const handle = stack.client.workflow.getHandle(objectWorkflowId(id));
    await eventually(() => handle.describe(), `the workflow of object ${id}`);
    const failure = await handle.result().then(
      () => assert.fail('the workflow should fail'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    const cause = failure.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'ObjectService.rejected');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /rejected id 300: 400/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(objectService.attempts.get(id), 1);
    assert.equal((await stack.rows()).has(id), false);
  });

  it('never moves last_seen backwards, whatever order the writes land in', async () => {
    const objects = new ObjectsRepository(stack.db);
    const base = Date.now();
    const times = Array.from({ length: 30 }, (_, i) => new Date(base - i * 100));
    const shuffled = [...times].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((time) => objects.recordSeen(500, time, 30)));
    assert.equal((await stack.rows()).get(500)?.getTime(), base);
    assert.equal(await objects.recordSeen(500, new Date(base - 5_000), 30), false);
    assert.equal((await stack.rows()).get(500)?.getTime(), base);
    assert.equal(await objects.recordSeen(500, new Date(base + 1), 30), true);
    assert.equal(await objects.recordSeen(501, new Date(Date.now() - 30_500), 30), false, 'older than the TTL');
    assert.equal((await stack.rows()).has(501), false);
  });

  it('runs nothing for an empty callback', async () => {
    // The server's clock is this machine's: whatever the empty callback started, started after this.
    const since = new Date();
    assert.deepEqual((await stack.postCallback([])).body, { accepted: 0 });
    // The visibility list shows each start moments late: by the time it shows the workflows of a
    // callback posted after the empty one, its object's started last, it shows what the empty one started.
    assert.equal((await stack.postCallback([600], 'after-the-empty-one')).status, 202);
    const after = [callbackWorkflowId('after-the-empty-one'), objectWorkflowId(600)].sort();
    const started = await eventually(async () => {
      const ids = await stack.workflowsStartedSince(since);
      return after.every((id) => ids.includes(id)) ? ids : undefined;
    }, 'the workflows of the callback after the empty one to be listed');
    assert.deepEqual(started, after, 'nothing started but the workflows of the callback after the empty one');
  });
});
