import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ObjectServiceClient, ObjectServiceError } from '../../src/activities/object-service';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

// Each id scripts one behaviour of the object service.
const behaviours: Record<number, (response: ServerResponse) => void> = {
  1: (response) => answer(response, 200, { id: 1, online: true }),
  2: (response) => answer(response, 200, { id: 2, online: false }),
  3: (response) => answer(response, 503, 'overloaded'),
  4: () => undefined, // never answers
  5: (response) => response.socket?.destroy(), // connection reset
  6: (response) => answer(response, 200, '{"id": 6, "online": tr'),
  7: (response) => answer(response, 200, { id: 8, online: true }),
  8: (response) => answer(response, 200, { id: 8, online: 'yes' }),
  9: (response) => answer(response, 400, 'invalid id'),
  10: (response) => answer(response, 404, 'no such object'),
  11: (response) => answer(response, 429, 'slow down'),
};

async function failureOf(client: ObjectServiceClient, id: number): Promise<ObjectServiceError> {
  const error = await client.fetchStatus(id).then(
    () => assert.fail(`id ${id} should fail`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ObjectServiceError, `expected ObjectServiceError, got ${String(error)}`);
  return error;
}

describe('ObjectServiceClient against a real HTTP object service', () => {
  let stub: StubObjectService;
  let client: ObjectServiceClient;

  before(async () => {
    stub = await startStubObjectService((id, _attempt, response) => behaviours[id]?.(response));
    client = new ObjectServiceClient(stub.url, { timeoutMs: 300 });
  });
  after(async () => {
    await client.close();
    await stub.close();
  });

  it('reads online and offline answers', async () => {
    assert.deepEqual(await client.fetchStatus(1), { id: 1, online: true });
    assert.deepEqual(await client.fetchStatus(2), { id: 2, online: false });
  });

  it('treats 5xx and 429 as retryable unavailability', async () => {
    for (const id of [3, 11]) {
      const error = await failureOf(client, id);
      assert.equal(error.failure, 'unavailable');
      assert.equal(error.retryable, true);
    }
  });

  it('gives up on a hung request after the timeout, retryably', async () => {
    const started = Date.now();
    const error = await failureOf(client, 4);
    assert.equal(error.failure, 'unreachable');
    assert.match(error.message, /no answer within 300 ms/);
    assert.ok(Date.now() - started < 2_000);
    assert.equal(error.retryable, true);
  });

  it('treats a reset connection as unreachable, retryably', async () => {
    const error = await failureOf(client, 5);
    assert.equal(error.failure, 'unreachable');
    assert.equal(error.retryable, true);
  });

  it('rejects malformed JSON, a wrong id and a non-boolean status as bad responses, retryably', async () => {
    for (const id of [6, 7, 8]) {
      const error = await failureOf(client, id);
      assert.equal(error.failure, 'bad_response', `id ${id}`);
      assert.equal(error.retryable, true);
    }
    assert.match((await failureOf(client, 7)).message, /answered for id 8 when asked for 7/);
  });

  it('treats other 4xx answers as final', async () => {
    for (const id of [9, 10]) {
      const error = await failureOf(client, id);
      assert.equal(error.failure, 'rejected');
      assert.equal(error.retryable, false);
    }
  });

  it('reports a refused connection as unreachable', async () => {
    const closed = new ObjectServiceClient('http://127.0.0.1:1', { timeoutMs: 300 });
    const error = await failureOf(closed, 1);
    assert.equal(error.failure, 'unreachable');
    assert.match(error.message, /ECONNREFUSED/);
    await closed.close();
  });

  it('stops waiting when the activity is cancelled', async () => {
    const slow = new ObjectServiceClient(stub.url, { timeoutMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await assert.rejects(slow.fetchStatus(4, controller.signal), ObjectServiceError);
    assert.ok(Date.now() - started < 1_000);
    await slow.close();
  });
});
