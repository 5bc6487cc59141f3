import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { assertBackoff, doublingBackoff, gapsOf } from '../support/retry-schedule';
import { TestStack } from '../support/stack';

/** A check's retries: 0.5 s doubling to 2 s (README, docs/guarantees.md). */
const CHECK_BACKOFF_MS = doublingBackoff(500, 2_000, 5);
/** A retry's own work: the failed attempt's workflow task, the server's timer, the next task. */
const SCHEDULING_SLACK_MS = 1_000;

describe("a check's retries on a real Temporal server, against an object service over HTTP", () => {
  const attemptTimes: number[] = [];
  let objectService: StubObjectService;
  let stack: TestStack;

  before(async () => {
    // 503 until every backoff of CHECK_BACKOFF_MS was waited, then online.
    objectService = await startStubObjectService((id, attempt, response) => {
      attemptTimes.push(Date.now());
      if (attempt <= CHECK_BACKOFF_MS.length) answer(response, 503, 'overloaded');
      else answer(response, 200, { id, online: true });
    });
    stack = await TestStack.start({ objectServiceUrl: objectService.url });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  it('backs off 0.5 s, 1 s, then 2 s between attempts and no more, however long the object service fails', async (t) => {
    const id = 42;
    const sentAt = Date.now();
    assert.equal((await stack.postCallback([id])).status, 202);
    await stack.checked(id, sentAt);
    assert.ok((await stack.rows()).has(id), 'the check after the failures wrote the row');
    t.diagnostic(`attempts ${gapsOf(attemptTimes).join(', ')} ms apart`);
    assertBackoff('the check', attemptTimes, CHECK_BACKOFF_MS, SCHEDULING_SLACK_MS);
  });
});
