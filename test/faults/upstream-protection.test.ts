import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendCallback } from '../../dev/tester/callback-sender';
import { startFakeObjectService, type FakeObjectService } from '../../dev/tester/object-service';
import { TestStack } from '../support/stack';
import { eventually } from '../../dev/support/wait';

const BURST_IDS = 10_000;
const CAP = 25;

describe('a burst of 10,000 distinct ids', () => {
  let objectService: FakeObjectService;
  let stack: TestStack;
  before(async () => {
    objectService = await startFakeObjectService({ minLatencyMs: 20, maxLatencyMs: 80, isOnline: () => true });
    // A long TTL: a check that waits in the backlog longer than 30 s would otherwise be dropped as expired.
    stack = await TestStack.start({
      objectServiceUrl: objectService.url,
      maxConcurrentChecks: CAP,
      objectTtlSeconds: 3_600,
    });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  it(`never has more than ${CAP} requests open at the object service, and checks every id`, async (t) => {
    const started = Date.now();
    const ids = Array.from({ length: BURST_IDS }, (_, i) => 1_000_000 + i);
    // One callback: its start is the only durable write on the ack path, whatever its size.
    const answer = await sendCallback(stack.callbackUrl, ids, 5_000);
    assert.equal(answer.status, 202, `answered ${answer.status} ${answer.error ?? ''}`);

    await eventually(
      async () =>
        (await stack.db.trackedObject.count({ where: { id: { gte: 1_000_000 } } })) === BURST_IDS ? true : undefined,
      'every id of the burst to have a row',
      900_000,
    );
    t.diagnostic(
      `acknowledged in ${answer.latencyMs} ms, all rows after ${Date.now() - started} ms; ` +
        `object service: ${objectService.stats.requests} requests, peak ${objectService.stats.peakInFlight} at once`,
    );
    assert.ok(objectService.stats.peakInFlight <= CAP, `peak ${objectService.stats.peakInFlight} > ${CAP}`);
    assert.ok(objectService.stats.peakInFlight >= CAP / 2, 'the cap, not something else, limited the concurrency');
    assert.ok(objectService.stats.requests >= BURST_IDS);
  });
});
