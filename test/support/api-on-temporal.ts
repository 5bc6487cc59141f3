import type { Client } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApi } from '../../src/api/server';
import { RECORDER_GRPC_RETRY, TemporalCallbackRecorder } from '../../src/api/temporal-callback-recorder';
import { loadConfig } from '../../src/config';
import { startTemporalDevServer, type DevServer } from '../../src/embedded/temporal-dev-server';
import { connectClient } from '../../src/temporal/client';
import { freePort } from './ports';

/** The callback API on a dev server of its own, no worker: for what the API does with Temporal. */
export interface ApiOnTemporal {
  server: DevServer;
  client: Client;
  api: FastifyInstance;
  postCallback(objectIds: number[]): Promise<LightMyRequestResponse>;
  stop(): Promise<void>;
}

export async function startApiOnTemporal(taskQueue: string): Promise<ApiOnTemporal> {
  const server = await startTemporalDevServer({ port: await freePort(), logLevel: 'error' });
  const client = await connectClient(loadConfig({ TEMPORAL_ADDRESS: server.address }), RECORDER_GRPC_RETRY);
  const api = buildApi({ recorder: new TemporalCallbackRecorder(client, taskQueue), isDatabaseReachable: async () => true });
  return {
    server,
    client,
    api,
    postCallback: (objectIds) =>
      api.inject({ method: 'POST', url: '/callback', headers: { 'content-type': 'application/json' }, payload: { object_ids: objectIds } }),
    stop: async () => {
      await api.close();
      await client.connection.close();
      await server.stop();
    },
  };
}
