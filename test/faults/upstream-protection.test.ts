import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendCallback } from '../../dev/tester/callback-sender';
import { startFakeObjectService, type FakeObjectService } from '../../dev/tester/object-service';
import { TestStack } from '../support/stack';
import { drain } from '../../dev/support/wait';
import { LARGE_LOAD } from '../support/timeouts';

const BURST_IDS = 10_000;
const CAP = 25;
/** The worker's room for waiting sightings: the burst goes alone, each later hand-out below waits whole for room. */
const ROOM = 200;
const CALLBACKS = 4;
const IDS_PER_CALLBACK = 150;

describe('bursts of distinct ids', () => {
  let objectService: FakeObjectService;
  let stack: TestStack;
  before(async () => {
    objectService = await startFakeObjectService({ minLatencyMs: 20, maxLatencyMs: 80, isOnline: () => true });
    // A long TTL: a check that waits in the backlog longer than 30 s would otherwise be dropped as expired.
    stack = await TestStack.start({
      objectServiceUrl: objectService.url,
      maxConcurrentChecks: CAP,
      objectTtlSeconds: 3_600,
      handOutMaxWaiting: ROOM,
    });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  it(`never has more than ${CAP} requests open at the object service, and checks every id`, LARGE_LOAD, async (t) => {
    const started = Date.now();
    const ids = Array.from({ length: BURST_IDS }, (_, i) => 1_000_000 + i);
    // One callback: its start is the only durable write on the ack path, whatever its size.
    const answer = await sendCallback(stack.callbackUrl, ids, 5_000);
    assert.equal(answer.status, 202, `answered ${answer.status} ${answer.error ?? ''}`);

    const left = await drain(
      async () => BURST_IDS - (await stack.db.trackedObject.count({ where: { id: { gte: 1_000_000 } } })),
    );
    t.diagnostic(
      `acknowledged in ${answer.latencyMs} ms, all rows after ${Date.now() - started} ms; ` +
        `object service: ${objectService.stats.requests} requests, peak ${objectService.stats.peakInFlight} at once`,
    );
    assert.equal(left, 0, 'every id of the burst has a row');
    assert.ok(objectService.stats.peakInFlight <= CAP, `peak ${objectService.stats.peakInFlight} > ${CAP}`);
    assert.ok(objectService.stats.peakInFlight >= CAP / 2, 'the cap, not something else, limited the concurrency');
    assert.ok(objectService.stats.requests >= BURST_IDS);
  });

  it(`delivers every id of ${CALLBACKS} callbacks of ${IDS_PER_CALLBACK} distinct ids at once through a room of ${ROOM}`, async () => {
    const ids = Array.from({ length: CALLBACKS * IDS_PER_CALLBACK }, (_, i) => 2_000_000 + i);
    const answers = await Promise.all(
      Array.from({ length: CALLBACKS }, (_, c) =>
        sendCallback(stack.callbackUrl, ids.slice(c * IDS_PER_CALLBACK, (c + 1) * IDS_PER_CALLBACK), 5_000),
      ),
    );
    assert.deepEqual(
      answers.map(({ status }) => status),
      Array.from({ length: CALLBACKS }, () => 202),
    );
    const left = await drain(
      async () => ids.length - (await stack.db.trackedObject.count({ where: { id: { gte: ids[0]! } } })),
    );
    assert.equal(left, 0, 'every id has a row');
  });
});
