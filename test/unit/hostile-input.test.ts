import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { MAX_OBJECT_ID } from '../../src/api/callback-schema';
import { buildApp } from '../../src/api/app';
import { InMemoryRecorder } from '../support/in-memory-recorder';

const isValidBody = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Array.isArray((value as { object_ids?: unknown }).object_ids) &&
  (value as { object_ids: unknown[] }).object_ids.every(
    (id) => typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= MAX_OBJECT_ID,
  );

function assertErrorShape(statusCode: number, body: string): void {
  assert.ok(statusCode >= 400 && statusCode < 500, `expected a 4xx, got ${statusCode}: ${body}`);
  const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
  assert.equal(typeof parsed.error, 'string');
  assert.equal(typeof parsed.message, 'string');
}

describe('hostile callback bodies', () => {
  const recorder = new InMemoryRecorder();
  const app = buildApp({ recorder, isDatabaseReachable: async () => true });
  after(() => app.close());
  beforeEach(() => {
    recorder.calls = [];
  });

  const post = (payload: string | Buffer, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/callback', headers: { 'content-type': contentType }, payload });

  const idLike = fc.oneof(
    fc.integer({ min: 0, max: MAX_OBJECT_ID }),
    fc.integer({ min: -1_000, max: -1 }),
    fc.integer({ min: MAX_OBJECT_ID + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.double(),
    fc.constant(null),
    fc.string(),
    fc.boolean(),
    fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.integer()),
  );

  it('answers any JSON value that is not a valid callback with a 4xx error and records nothing', async () => {
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ object_ids: fc.array(idLike, { maxLength: 50 }) }),
      fc.record({ object_ids: fc.jsonValue() }),
      fc.record({ ids: fc.array(fc.nat()) }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        recorder.calls = [];
        const response = await post(JSON.stringify(value) ?? 'null');
        if (isValidBody(value)) {
          assert.equal(response.statusCode, 202);
        } else {
          assertErrorShape(response.statusCode, response.body);
          assert.equal(recorder.calls.length, 0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('records every valid callback exactly once per distinct id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), async (ids) => {
        recorder.calls = [];
        const response = await post(JSON.stringify({ object_ids: ids }));
        assert.equal(response.statusCode, 202);
        const distinct = new Set(ids);
        assert.deepEqual(response.json(), { accepted: distinct.size });
        assert.deepEqual(recorder.calls.flatMap(({ objectIds }) => objectIds).sort(), [...distinct].sort());
      }),
      { numRuns: 200 },
    );
  });

  it('answers arbitrary bytes with a 4xx error and records nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const response = await post(Buffer.from(bytes));
        if (response.statusCode === 202) return; // the bytes happened to spell a valid callback
        assertErrorShape(response.statusCode, response.body);
        assert.equal(recorder.calls.length, 0);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects invalid UTF-8 even inside an otherwise valid callback', async () => {
    const body = Buffer.concat([
      Buffer.from('{"object_ids":[1],"note":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const response = await post(body);
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_encoding');
    assert.equal(recorder.calls.length, 0);
  });

  it('answers any content type but JSON with 415 and records nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'text/json',
          'application/x-www-form-urlencoded',
        ),
        async (contentType) => {
          const response = await post('{"object_ids":[1]}', contentType);
          assert.equal(response.statusCode, 415);
          assertErrorShape(response.statusCode, response.body);
          assert.equal(recorder.calls.length, 0);
        },
      ),
    );
  });

  it('refuses prototype poisoning', async () => {
    const response = await post('{"object_ids":[1],"__proto__":{"polluted":true}}');
    assertErrorShape(response.statusCode, response.body);
    assert.equal(recorder.calls.length, 0);
  });
});

describe('callback authentication (CALLBACK_TOKEN)', () => {
  const recorder = new InMemoryRecorder();
  const app = buildApp({ recorder, isDatabaseReachable: async () => true, callbackToken: 'right-token' });
  after(() => app.close());
  beforeEach(() => {
    recorder.calls = [];
  });

  const post = (headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: '/callback',
      headers: { 'content-type': 'application/json', ...headers },
      payload: '{"object_ids":[1,2]}',
    });

  for (const [what, headers] of [
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token' }],
    ['another scheme', { authorization: 'Basic cmlnaHQtdG9rZW4=' }],
  ] as const) {
    it(`answers 401 to ${what} and records nothing`, async () => {
      const response = await post(headers);
      assert.equal(response.statusCode, 401);
      assertErrorShape(response.statusCode, response.body);
      assert.equal(response.json().error, 'unauthorized');
      assert.equal(recorder.calls.length, 0);
    });
  }

  it('accepts the right token', async () => {
    assert.equal((await post({ authorization: 'Bearer right-token' })).statusCode, 202);
    assert.equal(recorder.calls.length, 1);
  });

  it('keeps health and readiness open', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});

describe('slow clients', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = buildApp({ recorder: new InMemoryRecorder(), isDatabaseReachable: async () => true, requestTimeoutMs: 500 });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(address).port);
  });
  after(() => app.close());

  /** Opens a connection, sends `partial` and never finishes; resolves when the server hangs up. */
  const stall = (partial: string) =>
    new Promise<{ elapsedMs: number; answer: string }>((resolve, reject) => {
      const started = Date.now();
      let answer = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(partial));
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('close', () => resolve({ elapsedMs: Date.now() - started, answer }));
      socket.on('error', reject);
      setTimeout(() => reject(new Error('the server kept a stalled connection open')), 5_000).unref();
    });

  it('cuts off a client that never finishes its headers', async () => {
    const { elapsedMs } = await stall('POST /callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n');
    assert.ok(elapsedMs < 3_000, `closed after ${elapsedMs} ms`);
  });

  it('cuts off a client that never finishes its body', async () => {
    const { elapsedMs, answer } = await stall(
      'POST /callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"object_ids":[',
    );
    assert.ok(elapsedMs < 3_000, `closed after ${elapsedMs} ms`);
    assert.doesNotMatch(answer, /^HTTP\/1\.1 2/);
  });
});
