import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { RECORDER_GRPC_RETRY, TemporalSightingRecorder } from '../../src/api/temporal-sighting-recorder';
import { loadConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/client';
import { startTemporalDevServer, type DevServer } from '../../src/embedded/temporal-dev-server';
import { freePort } from '../support/ports';

describe('callbacks while Temporal is unreachable', () => {
  let server: DevServer;
  let client: Client;
  let api: FastifyInstance;

  before(async () => {
    server = await startTemporalDevServer({ port: await freePort(), logLevel: 'error' });
    client = await connectClient(loadConfig({ TEMPORAL_ADDRESS: server.address }), RECORDER_GRPC_RETRY);
    api = buildApi({ recorder: new TemporalSightingRecorder(client, 'presence-unavailable'), isDatabaseReachable: async () => true });
  });
  after(async () => {
    await api?.close();
    await client?.connection.close();
    await server?.stop();
  });

  const post = () =>
    api.inject({ method: 'POST', url: '/callback', headers: { 'content-type': 'application/json' }, payload: { object_ids: [1, 2, 3] } });

  it('accepts while the server is up', async () => {
    assert.equal((await post()).statusCode, 202);
  });

  it('answers 503 fast, never 2xx, once the server is gone, and reports not ready', async () => {
    await server.stop();
    for (let i = 0; i < 3; i += 1) {
      const started = Date.now();
      const response = await post();
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error, 'unavailable');
      assert.ok(Date.now() - started < 500, `answered well within the sender's timeout (${Date.now() - started} ms)`);
    }
    const ready = await api.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().temporal, false);
  });
});
