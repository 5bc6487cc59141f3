import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startApiOnTemporal, type ApiOnTemporal } from '../support/api-on-temporal';
import { KEY_REUSED } from '../../src/api/callback-schema';
import { ANSWER_DEADLINE_MS } from '../../src/callbacks/outbox-fallback-recorder';
import { OUTBOX_LIMIT } from '../../src/db/callback-outbox';

describe('callbacks while Temporal is unreachable', () => {
  let system: ApiOnTemporal;

  before(async () => {
    system = await startApiOnTemporal('presence-unavailable');
  });
  after(() => system?.stop());

  const outbox = () => system.db.outboxCallback.findMany({ orderBy: { receivedAt: 'asc' } });

  it('records in Temporal while the server is up, and reports ready', async () => {
    assert.equal((await system.postCallback([1, 2, 3])).statusCode, 202);
    assert.deepEqual(await outbox(), []);
    const ready = await system.api.inject({ method: 'GET', url: '/readyz' });
    assert.deepEqual([ready.statusCode, ready.json().status], [200, 'ready']);
  });

  it('takes callbacks into the outbox, fast, once the server is gone, and reports degraded', async () => {
    await system.server.stop();
    for (const ids of [[4, 5], [6]]) {
      const started = Date.now();
      const response = await system.postCallback(ids);
      assert.equal(response.statusCode, 202);
      assert.ok(
        Date.now() - started < ANSWER_DEADLINE_MS,
        `answered within the sender's timeout (${Date.now() - started} ms)`,
      );
    }
    const waiting = await outbox();
    assert.deepEqual(
      waiting.map(({ objectIds }) => objectIds),
      [[4, 5], [6]],
    );
    assert.ok(waiting.every(({ workflowId }) => /^callback-[0-9a-f-]{36}$/.test(workflowId)));
    const ready = await system.api.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'degraded', temporal: false, database: true });
  });

  it('answers 503 and records nothing when the database is away too, and reports unavailable', async () => {
    await system.databaseProxy.cut();
    // The API's pool drops the connections the cut broke on its next turn of the event loop. An
    // insert sent on one before that may, for all the API can tell, have reached the database: it
    // gets no answer at all (test/integration/refused-means-unrecorded.test.ts), not a 503.
    await sleep(100);
    const started = Date.now();
    const response = await system.postCallback([7]);
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'unavailable');
    assert.ok(Date.now() - started < 1_000, `answered within the sender's timeout (${Date.now() - started} ms)`);
    const ready = await system.api.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json(), { status: 'unavailable', temporal: false, database: false });
    assert.equal((await outbox()).length, 2, 'nothing of the refused callback is in the outbox');
  });

  it('recovers when the database is back', async () => {
    await system.databaseProxy.open();
    assert.equal((await system.postCallback([8])).statusCode, 202);
    assert.equal((await outbox()).length, 3);
  });

  it('records an Idempotency-Key once in the outbox: the same ids 202 again, other ids 422 and nothing recorded', async () => {
    const post = async (objectIds: number[]) => {
      const response = await system.postCallback(objectIds, 'outbox-1');
      return [response.statusCode, response.json()];
    };
    assert.deepEqual(await post([9, 10]), [202, { accepted: 2 }]);
    assert.deepEqual(await post([9, 10, 9]), [202, { accepted: 2 }]);
    assert.deepEqual(await post([10, 9]), [422, KEY_REUSED]);
    assert.deepEqual(await post([11]), [422, KEY_REUSED]);
    const keyed = await system.db.outboxCallback.findMany({ where: { workflowId: 'callback-key-outbox-1' } });
    assert.deepEqual(
      keyed.map(({ objectIds }) => objectIds),
      [[9, 10]],
    );
  });

  it('answers 503 and records nothing once the outbox holds its limit', async () => {
    await system.db.$executeRaw`INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
      SELECT 'callback-filler-' || i, ARRAY[i], now()
      FROM generate_series(1, ${OUTBOX_LIMIT}::integer - (SELECT count(*)::integer FROM callback_outbox)) AS i`;
    const response = await system.postCallback([12]);
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'unavailable');
    assert.equal(await system.db.outboxCallback.count(), OUTBOX_LIMIT);
    // A callback it already holds is still recorded.
    assert.equal((await system.postCallback([9, 10], 'outbox-1')).statusCode, 202);
  });
});
