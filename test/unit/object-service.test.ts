import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  OBJECT_SERVICE_MAX_BODY_BYTES,
  ObjectServiceClient,
  ObjectServiceError,
} from '../../src/activities/object-service';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

const TEN_MB = 10 * 1024 * 1024;

/** Per id, settles when the connection streaming its answer closes. */
const hangUps = new Map<number, Promise<unknown>>();

/** Streams `prefix` padded with spaces to 10 MB (valid JSON when the prefix is), until the client hangs up. */
function streamTenMegabytes(
  id: number,
  response: ServerResponse,
  status: number,
  prefix: string,
  declareLength: boolean,
) {
  response.writeHead(status, declareLength ? { 'content-length': TEN_MB } : {});
  let open = true;
  const closed = once(response, 'close').then(() => (open = false));
  hangUps.set(id, closed);
  void (async () => {
    const padding = Buffer.alloc(64 * 1024, ' ');
    response.write(prefix);
    let written = prefix.length;
    while (open && written < TEN_MB) {
      const chunk = padding.subarray(0, Math.min(padding.length, TEN_MB - written));
      written += chunk.length;
      if (!response.write(chunk)) await Promise.race([once(response, 'drain'), closed]);
    }
    if (open) response.end();
  })();
}

/**
 * The client's socket per request path, to count the bytes the client took off the connection.
 * (The stub's own count would mostly measure the kernel's socket buffers, megabytes on loopback.)
 */
const clientSockets = new Map<string, Socket>();
const onSendHeaders = (message: unknown) => {
  const { request, socket } = message as { request: { path: string }; socket: Socket };
  clientSockets.set(request.path, socket);
};

const paddedTo = (bytes: number, json: string): string => json.padEnd(bytes, ' ');

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
  12: (response) => streamTenMegabytes(12, response, 200, '{"id": 12, "online": true}', true),
  13: (response) => streamTenMegabytes(13, response, 200, '{"id": 13, "online": true}', false),
  14: (response) => streamTenMegabytes(14, response, 404, 'no such object', false),
  15: (response) => answer(response, 200, paddedTo(OBJECT_SERVICE_MAX_BODY_BYTES, '{"id": 15, "online": true}')),
  16: (response) => {
    // One byte over the cap, in two chunks and without a length, so only counting can catch it.
    const body = paddedTo(OBJECT_SERVICE_MAX_BODY_BYTES + 1, '{"id": 16, "online": true}');
    response.writeHead(200).write(body.slice(0, 100));
    setTimeout(() => response.end(body.slice(100)), 10);
  },
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
    subscribe('undici:client:sendHeaders', onSendHeaders);
    stub = await startStubObjectService((id, _attempt, response) => behaviours[id]?.(response));
    client = new ObjectServiceClient(stub.url, { timeoutMs: 300 });
  });
  after(async () => {
    unsubscribe('undici:client:sendHeaders', onSendHeaders);
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

  it('refuses a 10 MB answer as a bad response, retryably, and hangs up long before its end', async () => {
    // A timeout longer than the test's patience, so only the cap can end these requests early.
    const patient = new ObjectServiceClient(stub.url, { timeoutMs: 30_000 });
    const cases = [
      { id: 12, framing: 'Content-Length', failure: 'bad_response' },
      { id: 13, framing: 'chunked', failure: 'bad_response' },
      { id: 14, framing: 'chunked 404', failure: 'rejected' }, // the status still decides
    ];
    for (const { id, framing, failure } of cases) {
      const error = await failureOf(patient, id);
      assert.equal(error.failure, failure, framing);
      assert.equal(error.retryable, failure === 'bad_response', framing);
      assert.match(error.message, new RegExp(`over ${OBJECT_SERVICE_MAX_BODY_BYTES} bytes`), framing);
      const closed = await Promise.race([hangUps.get(id), sleep(2_000).then(() => 'still open')]);
      assert.notEqual(closed, 'still open', `${framing}: the client kept the connection open`);
      // The client reads a socket 64 KiB at a time: one or two reads, against 10 MB unchecked.
      const read = clientSockets.get(`/objects/${id}`)?.bytesRead;
      assert.ok(read !== undefined && read <= 256 * 1024, `${framing}: the client read ${read} bytes`);
    }
    await patient.close();
  });

  it('reads an answer exactly at the cap and refuses one a byte over it', async () => {
    assert.deepEqual(await client.fetchStatus(15), { id: 15, online: true });
    const error = await failureOf(client, 16);
    assert.equal(error.failure, 'bad_response');
    assert.equal(error.retryable, true);
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
