import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendCallback } from '../../dev/tester/callback-sender';
import { startFakeObjectService, type FakeObjectService } from '../../dev/tester/object-service';
import { TestStack } from '../support/stack';
import { eventually } from '../../dev/support/wait';

const CALLBACKS = 4;
const IDS_PER_CALLBACK = 150;
/** Room for one callback's ids and a half: every later hand-out waits whole for room. */
const ROOM = 200;

describe("a flood larger than a worker's room for waiting sightings, end to end", () => {
  let objectService: FakeObjectService;
  let stack: TestStack;
  before(async () => {
    objectService = await startFakeObjectService({ minLatencyMs: 20, maxLatencyMs: 80, isOnline: () => true });
    stack = await TestStack.start({
      objectServiceUrl: objectService.url,
      objectTtlSeconds: 3_600,
      handOutMaxWaiting: ROOM,
    });
  });
  after(async () => {
    await stack?.stop();
    await objectService?.close();
  });

  it(`delivers every id of ${CALLBACKS} callbacks of ${IDS_PER_CALLBACK} distinct ids through a room of ${ROOM}`, async () => {
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
    await eventually(
      async () =>
        (await stack.db.trackedObject.count({ where: { id: { gte: ids[0]! } } })) === ids.length ? true : undefined,
      'every id to have a row',
      240_000,
    );
  });
});
