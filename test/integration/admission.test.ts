import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { AdmissionLimit } from '../../src/api/admission-limit';
import { buildApi } from '../../src/api/server';
import { RECORDER_GRPC_RETRY, TemporalSightingRecorder } from '../../src/api/temporal-sighting-recorder';
import { loadConfig } from '../../src/config';
import { startTemporalDevServer, type DevServer } from '../../src/embedded/temporal-dev-server';
import { connectClient } from '../../src/temporal/client';
import { objectWorkflowId } from '../../src/workflows';
import { freePort } from '../support/ports';

describe('turning callbacks away when too many ids are in flight, on a real Temporal server', () => {
  let server: DevServer;
  let client: Client;
  let api: FastifyInstance;

  before(async () => {
    server = await startTemporalDevServer({ port: await freePort(), logLevel: 'error' });
    client = await connectClient(loadConfig({ TEMPORAL_ADDRESS: server.address }), RECORDER_GRPC_RETRY);
    const admission = new AdmissionLimit({ initial: 3, min: 3, max: 3, fastMs: 450 });
    api = buildApi({ recorder: new TemporalSightingRecorder(client, 'presence-admission', admission), isDatabaseReachable: async () => true });
  });
  after(async () => {
    await api?.close();
    await client?.connection.close();
    await server?.stop();
  });

  const post = (objectIds: number[]) =>
    api.inject({ method: 'POST', url: '/callback', headers: { 'content-type': 'application/json' }, payload: { object_ids: objectIds } });
  const workflowExists = async (objectId: number) => {
    try {
      await client.workflow.getHandle(objectWorkflowId(objectId)).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  };

  it('answers 503 overloaded at once, starts nothing for it, and takes the callback once room is free', async () => {
    const [first, second] = await Promise.all([post([1, 2, 3]), post([4, 5, 6])]);
    assert.equal(first.statusCode, 202);
    assert.equal(second.statusCode, 503);
    assert.equal(second.json().error, 'overloaded');
    assert.equal(second.headers['retry-after'], '1');
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5, 6].map(workflowExists)), [true, true, true, false, false, false]);

    assert.equal((await post([4, 5, 6])).statusCode, 202);
    assert.equal(await workflowExists(4), true);
  });
});
