import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendCallback } from '../../src/tester/callback-sender';
import { startFakeObjectService, type FakeObjectService } from '../../src/tester/object-service';
import { TestStack } from '../support/stack';
import { eventually } from '../support/wait';

const BURST_IDS = 10_000;
const CAP = 25;

describe('a burst of 10,000 distinct ids', () => {
  let objectService: FakeObjectService;
  let stack: TestStack;
  before(async () => {
    objectService = await startFakeObjectService({ minLatencyMs: 20, maxLatencyMs: 80, isOnline: () => true });
    // A long TTL: a check that waits in the backlog longer than 30 s would otherwise be dropped as expired.
    stack = await TestStack.start({ objectServiceUrl: objectService.url, maxConcurrentChecks: CAP, objectTtlSeconds: 3_600 });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  it(`never has more than ${CAP} requests open at the object service, and checks every id`, async (t) => {
    const started = Date.now();
    const batches = Array.from({ length: BURST_IDS / 100 }, (_, batch) => Array.from({ length: 100 }, (_, i) => 1_000_000 + batch * 100 + i));
    let rejected = 0;
    // One sender, callback after callback: a single dev server takes new workflows at a few
    // hundred per second, and a 503 (it fell behind) is sent again, since the point here is that
    // every id gets in, not how fast it is answered.
    const sender = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        for (;;) {
          const result = await sendCallback(stack.callbackUrl, batch, 5_000);
          if (result.ok) break;
          rejected += 1;
        }
      }
    };
    await sender();
    const acceptedAfterMs = Date.now() - started;

    await eventually(
      async () => ((await stack.db.trackedObject.count({ where: { id: { gte: 1_000_000 } } })) === BURST_IDS ? true : undefined),
      'every id of the burst to have a row',
      900_000,
    );
    t.diagnostic(
      `accepted in ${acceptedAfterMs} ms (${rejected} callbacks retried after 503), all rows after ${Date.now() - started} ms; ` +
        `object service: ${objectService.stats.requests} requests, peak ${objectService.stats.peakInFlight} at once`,
    );
    assert.ok(objectService.stats.peakInFlight <= CAP, `peak ${objectService.stats.peakInFlight} > ${CAP}`);
    assert.ok(objectService.stats.peakInFlight >= CAP / 2, 'the cap, not something else, limited the concurrency');
    assert.ok(objectService.stats.requests >= BURST_IDS);
  });
});
