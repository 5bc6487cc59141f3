import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startApiOnTemporal, type ApiOnTemporal } from '../support/api-on-temporal';
import { KEY_REUSED } from '../../src/api/callback-schema';
import { recordedCallback } from '../support/recorded-callback';
import { workflowExists } from '../support/workflow-exists';

// The sender's client timeout (docs/contract.md §2): an answer later than this reaches no one.
const SENDER_TIMEOUT_MS = 1_000;
// The outbox's documented bound (docs/guarantees.md, docs/operations.md), not the constant in src/:
// a changed limit fails here.
const DOCUMENTED_OUTBOX_LIMIT = 10_000;

/** Takes connections on `port` and never answers on them; `close` drops them. */
async function hungServer(port: number): Promise<{ connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('callbacks while Temporal is unreachable', () => {
  let system: ApiOnTemporal;

  before(async () => {
    system = await startApiOnTemporal('presence-unavailable');
  });
  after(() => system?.stop());

  const outbox = () => system.db.outboxCallback.findMany({ orderBy: { receivedAt: 'asc' } });

  it('records in Temporal while the server is up, and reports ready', async () => {
    assert.equal((await system.postCallback([1, 2, 3], 'temporal-1')).statusCode, 202);
    assert.deepEqual(await outbox(), []);
    // The 202 stands for a start in Temporal: the callback's workflow, with its ids.
    assert.equal(await workflowExists(system.client, 'callback-key-temporal-1'), true, 'its workflow is in Temporal');
    assert.deepEqual((await recordedCallback(system.client, 'callback-key-temporal-1')).objectIds, [1, 2, 3]);
    const ready = await system.api.inject({ method: 'GET', url: '/readyz' });
    assert.deepEqual([ready.statusCode, ready.json().status], [200, 'ready']);
  });

  /** Posts a callback and asserts that its answer comes before the sender gives up. */
  const answeredInTime = async (ids: number[]) => {
    const started = Date.now();
    const response = await system.postCallback(ids);
    const answeredInMs = Date.now() - started;
    assert.ok(answeredInMs < SENDER_TIMEOUT_MS, `answered within the sender's timeout (${answeredInMs} ms)`);
    return response;
  };

  it('takes callbacks into the outbox, fast, once the server is gone, and reports degraded', async () => {
    const port = Number(system.server.address.split(':')[1]);
    await system.server.stop();
    // Its port first takes connections and never answers, as a hung server does: the API's own wait
    // for Temporal must end in time. Then it refuses them, which fails a start at once.
    const hung = await hungServer(port);
    try {
      assert.equal((await answeredInTime([4, 5])).statusCode, 202);
      assert.ok(hung.connections() > 0, 'the API asked the hung server');
    } finally {
      await hung.close();
    }
    assert.equal((await answeredInTime([6])).statusCode, 202);
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
    const response = await answeredInTime([7]);
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'unavailable');
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
    // One short of the limit: the next callback is still taken, the one after it is not.
    await system.db.$executeRaw`INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
      SELECT 'callback-filler-' || i, ARRAY[i], now()
      FROM generate_series(1, ${DOCUMENTED_OUTBOX_LIMIT - 1}::integer - (SELECT count(*)::integer FROM callback_outbox)) AS i`;
    assert.equal(
      (await system.postCallback([12])).statusCode,
      202,
      `the ${DOCUMENTED_OUTBOX_LIMIT}th callback is taken`,
    );
    assert.equal(await system.db.outboxCallback.count(), DOCUMENTED_OUTBOX_LIMIT);
    const response = await system.postCallback([13]);
    assert.equal(response.statusCode, 503, `the outbox holds ${DOCUMENTED_OUTBOX_LIMIT} at most`);
    assert.equal(response.json().error, 'unavailable');
    assert.equal(await system.db.outboxCallback.count(), DOCUMENTED_OUTBOX_LIMIT);
    // A callback it already holds is still recorded.
    assert.equal((await system.postCallback([9, 10], 'outbox-1')).statusCode, 202);
  });
});
