import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { MAX_OBJECT_ID } from '../../src/api/callback-schema';
import { buildApp } from '../../src/api/app';
import { InMemoryRecorder } from '../support/in-memory-recorder';

describe('callback API', () => {
  const recorder = new InMemoryRecorder();
  let databaseUp = true;
  const app = buildApp({ recorder, isDatabaseReachable: async () => databaseUp });
  after(() => app.close());
  beforeEach(() => {
    recorder.calls = [];
    recorder.available = true;
    databaseUp = true;
  });

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/callback', headers: { 'content-type': contentType }, payload });

  it('records every distinct id once and answers 202', async () => {
    const before = Date.now();
    const response = await post(JSON.stringify({ object_ids: [5, 1, 5, 2, 1] }));
    assert.equal(response.statusCode, 202);
    assert.deepEqual(response.json(), { accepted: 3 });
    assert.equal(recorder.calls.length, 1);
    assert.deepEqual(recorder.calls[0]?.objectIds, [5, 1, 2]);
    assert.ok((recorder.calls[0]?.receivedAtMs ?? 0) >= before);
  });

  it('accepts the boundary ids', async () => {
    const response = await post(JSON.stringify({ object_ids: [0, MAX_OBJECT_ID] }));
    assert.equal(response.statusCode, 202);
  });

  it('accepts an empty list and starts nothing', async () => {
    const response = await post('{"object_ids": []}');
    assert.equal(response.statusCode, 202);
    assert.deepEqual(response.json(), { accepted: 0 });
    assert.equal(recorder.calls.length, 0);
  });

  it('accepts a charset in the content type', async () => {
    assert.equal((await post('{"object_ids":[1]}', 'application/json; charset=utf-8')).statusCode, 202);
  });

  const rejected: Array<[string, string, number, string, string?]> = [
    ['not JSON', '{"object_ids": [1,', 400, 'invalid_json'],
    ['an empty body', '', 400, 'invalid_json'],
    ['a JSON array', '[1, 2]', 400, 'invalid_body'],
    ['a JSON null', 'null', 400, 'invalid_body'],
    ['a missing object_ids', '{"ids": [1]}', 400, 'invalid_body'],
    ['a non-array object_ids', '{"object_ids": 7}', 400, 'invalid_body'],
    ['a string id', '{"object_ids": [1, "2"]}', 400, 'invalid_body'],
    ['a fractional id', '{"object_ids": [1.5]}', 400, 'invalid_body'],
    ['a negative id', '{"object_ids": [-1]}', 400, 'invalid_body'],
    ['a too-large id', `{"object_ids": [${MAX_OBJECT_ID + 1}]}`, 400, 'invalid_body'],
    ['a null id', '{"object_ids": [null]}', 400, 'invalid_body'],
    ['a boolean id', '{"object_ids": [true]}', 400, 'invalid_body'],
    ['a nested array', '{"object_ids": [[1]]}', 400, 'invalid_body'],
    ['a wrong content type', '{"object_ids": [1]}', 415, 'unsupported_media_type', 'text/plain'],
    ['a form body', 'object_ids=1', 415, 'unsupported_media_type', 'application/x-www-form-urlencoded'],
    [
      'a body over the limit',
      JSON.stringify({ object_ids: Array.from({ length: 40_000 }, (_, i) => 1_000_000 + i) }),
      413,
      'body_too_large',
    ],
    ['too many ids', JSON.stringify({ object_ids: Array.from({ length: 10_001 }, (_, i) => i) }), 400, 'invalid_body'],
  ];
  for (const [what, payload, status, code, contentType] of rejected) {
    it(`answers ${status} ${code} to ${what} and starts nothing`, async () => {
      const response = await post(payload, contentType);
      assert.equal(response.statusCode, status);
      const body = response.json();
      assert.equal(body.error, code);
      assert.equal(typeof body.message, 'string');
      assert.ok(body.message.length > 0);
      assert.equal(recorder.calls.length, 0);
    });
  }

  it('answers 503, never 2xx, when the callback cannot be recorded', async () => {
    recorder.available = false;
    const response = await post('{"object_ids": [1, 2]}');
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'unavailable');
  });

  it('records a callback under a workflow id of its own, or the one its Idempotency-Key names', async () => {
    await post('{"object_ids": [1]}');
    await post('{"object_ids": [1]}');
    await app.inject({
      method: 'POST',
      url: '/callback',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'sender-42' },
      payload: '{"object_ids": [1]}',
    });
    const [first, second, keyed] = recorder.calls.map(({ workflowId }) => workflowId);
    assert.match(first ?? '', /^callback-[0-9a-f-]{36}$/);
    assert.notEqual(first, second);
    assert.equal(keyed, 'callback-key-sender-42');
  });

  it('answers a repeat of an Idempotency-Key 202 for the same distinct ids, 422 for others, and records it once', async () => {
    const postWithKey = (objectIds: number[]) =>
      app.inject({
        method: 'POST',
        url: '/callback',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'sender-43' },
        payload: { object_ids: objectIds },
      });
    for (const objectIds of [
      [1, 2],
      [1, 2, 1],
    ]) {
      const response = await postWithKey(objectIds);
      assert.deepEqual([response.statusCode, response.json()], [202, { accepted: 2 }]);
    }
    for (const objectIds of [[2, 1], [1], [1, 2, 3]]) {
      const response = await postWithKey(objectIds);
      assert.equal(response.statusCode, 422, `ids ${objectIds}`);
      assert.deepEqual(response.json(), {
        error: 'idempotency_key_reused',
        message: 'the Idempotency-Key names a callback with other object_ids; nothing in this one was recorded',
      });
    }
    assert.deepEqual(
      recorder.calls.map(({ workflowId, objectIds }) => [workflowId, objectIds]),
      [['callback-key-sender-43', [1, 2]]],
    );
  });

  it('rejects an Idempotency-Key that cannot name a workflow, and records nothing', async () => {
    for (const key of ['', 'with space', 'quote"d', 'x'.repeat(201)]) {
      const response = await app.inject({
        method: 'POST',
        url: '/callback',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        payload: '{"object_ids": [1]}',
      });
      assert.equal(response.statusCode, 400, `key ${JSON.stringify(key)}`);
      assert.equal(response.json().error, 'invalid_header');
    }
    assert.equal(recorder.calls.length, 0);
  });

  it('answers 405 with Allow: POST for other methods on /callback, and records nothing', async () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const response = await app.inject({ method, url: '/callback' });
      assert.equal(response.statusCode, 405, method);
      assert.equal(response.headers.allow, 'POST');
      assert.equal(response.json().error, 'method_not_allowed');
    }
    assert.equal(recorder.calls.length, 0);
  });

  it('answers 404 in the error shape for unknown routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error, 'not_found');
  });

  it('is healthy while the process lives', async () => {
    recorder.available = false;
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  it('is ready while callbacks can be recorded: in Temporal, or degraded in the outbox alone', async () => {
    const readiness = async () => {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      return [response.statusCode, response.json()];
    };
    assert.deepEqual(await readiness(), [200, { status: 'ready', temporal: true, database: true }]);
    databaseUp = false;
    assert.deepEqual(await readiness(), [200, { status: 'ready', temporal: true, database: false }]);
    databaseUp = true;
    recorder.available = false;
    assert.deepEqual(await readiness(), [200, { status: 'degraded', temporal: false, database: true }]);
    databaseUp = false;
    assert.deepEqual(await readiness(), [503, { status: 'unavailable', temporal: false, database: false }]);
  });

  /** Every sample of the /metrics text, by its name and labels. */
  const scrape = async (): Promise<Map<string, number>> => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /text\/plain/);
    const samples = new Map<string, number>();
    for (const line of response.body.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return samples;
  };

  it('serves Prometheus metrics: callbacks by outcome and reason, ids recorded, latency', async () => {
    // The app and its counters are shared with the tests above: what counts is this test's difference.
    const before = await scrape();
    await post('{"object_ids": [1, 2, 2]}');
    await post('{"object_ids": [-1]}');
    const keyed = { 'content-type': 'application/json', 'idempotency-key': 'metrics-1' };
    await app.inject({ method: 'POST', url: '/callback', headers: keyed, payload: { object_ids: [4] } });
    await app.inject({ method: 'POST', url: '/callback', headers: keyed, payload: { object_ids: [5] } });
    recorder.available = false;
    await post('{"object_ids": [3]}');
    const after = await scrape();
    const added = (prefix: string) =>
      Object.fromEntries(
        [...after]
          .filter(([sample]) => sample.startsWith(prefix))
          .map(([sample, value]) => [sample, value - (before.get(sample) ?? 0)] as const)
          .filter(([, difference]) => difference !== 0),
      );
    assert.deepEqual(added('presence_callbacks_total{'), {
      'presence_callbacks_total{outcome="accepted",reason=""}': 2,
      'presence_callbacks_total{outcome="rejected",reason="invalid_body"}': 1,
      'presence_callbacks_total{outcome="rejected",reason="idempotency_key_reused"}': 1,
      'presence_callbacks_total{outcome="unavailable",reason="unavailable"}': 1,
    });
    assert.deepEqual(added('presence_callbacks_recorded_total{'), {
      'presence_callbacks_recorded_total{store="memory"}': 2,
    });
    // [1, 2, 2] and [4]: each distinct id once; nothing of the refused ones.
    assert.deepEqual(added('presence_callback_ids_recorded_total'), { presence_callback_ids_recorded_total: 3 });
    const latency = added('presence_callback_duration_seconds');
    for (const [outcome, answers] of [
      ['accepted', 2],
      ['rejected', 2],
      ['unavailable', 1],
    ] as const) {
      assert.equal(latency[`presence_callback_duration_seconds_count{outcome="${outcome}"}`], answers, outcome);
      assert.equal(
        latency[`presence_callback_duration_seconds_bucket{le="0.1",outcome="${outcome}"}`],
        answers,
        outcome,
      );
    }
    assert.ok(after.has('process_cpu_seconds_total'));
  });

  it('describes itself in OpenAPI, from the validation schemas', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(response.statusCode, 200);
    const spec = response.json();
    assert.match(spec.openapi, /^3\./);
    const callback = spec.paths['/callback'].post;
    const body = callback.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['object_ids']);
    assert.equal(body.properties.object_ids.items.maximum, MAX_OBJECT_ID);
    for (const status of ['202', '400', '401', '413', '415', '422', '503']) {
      const documented = callback.responses[status];
      assert.ok(documented?.description && !/default response/i.test(documented.description), `${status} is described`);
      assert.ok(documented.content['application/json'].schema.example, `${status} has an example`);
    }
    assert.ok(spec.paths['/healthz'].get && spec.paths['/readyz'].get);
    assert.equal(spec.paths['/metrics'], undefined);
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    assert.ok(ui.statusCode === 200 || ui.statusCode === 302);
  });
});

describe('callback API logs', () => {
  it('logs callbacks at info, and probes and scrapes at debug only', async () => {
    const lines: Array<{ level: number; msg: string; url?: string; req?: { url: string } }> = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    const app = buildApp({ recorder: new InMemoryRecorder(), isDatabaseReachable: async () => true, logger });
    try {
      for (const url of ['/healthz', '/readyz', '/metrics?name=x']) await app.inject({ method: 'GET', url });
      await app.inject({ method: 'POST', url: '/callback', payload: { object_ids: [1] } });
    } finally {
      await app.close();
    }
    const probeLines = lines.filter((line) => line.level >= 30 && /healthz|readyz|metrics/.test(JSON.stringify(line)));
    assert.deepEqual(probeLines, [], 'no probe line at info or above');
    assert.deepEqual(
      lines.filter(({ msg }) => msg === 'probe answered').map(({ level, url }) => ({ level, url })),
      [
        { level: 20, url: '/healthz' },
        { level: 20, url: '/readyz' },
        { level: 20, url: '/metrics?name=x' },
      ],
    );
    assert.ok(
      lines.some(({ level, msg, req }) => level === 30 && msg === 'incoming request' && req?.url === '/callback'),
      'a callback is logged at info',
    );
  });
});
