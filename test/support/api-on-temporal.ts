import type { Client } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createApi } from '../../src/api/create-api';
import { loadConfig } from '../../src/config';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { proxyDatabase, type TcpProxy } from '../../dev/support/tcp-proxy';

/**
 * The callback API on a dev server of its own and a fresh database reached through a proxy the
 * test can cut, no worker: for what the API does when Temporal or the database is away.
 */
export interface ApiOnTemporal {
  server: DevServer;
  client: Client;
  api: FastifyInstance;
  database: TestDatabase;
  databaseProxy: TcpProxy;
  /** The database straight, not through the proxy. */
  db: Database;
  postCallback(objectIds: number[], idempotencyKey?: string): Promise<LightMyRequestResponse>;
  stop(): Promise<void>;
}

export async function startApiOnTemporal(taskQueue: string): Promise<ApiOnTemporal> {
  const [server, database] = await Promise.all([
    startTemporalDevServer({ port: await freePort(), logLevel: 'error' }),
    createTestDatabase(),
  ]);
  const { proxy: databaseProxy, url: proxiedUrl } = await proxyDatabase(database.url, await freePort());
  const db = connectDatabase(database.url, 2);
  const {
    app: api,
    client,
    close,
  } = createApi(
    loadConfig({
      TEMPORAL_ADDRESS: server.address,
      DATABASE_URL: proxiedUrl,
      TEMPORAL_TASK_QUEUE: taskQueue,
      LOG_LEVEL: 'silent',
    }),
  );
  return {
    server,
    client,
    api,
    database,
    databaseProxy,
    db,
    postCallback: (objectIds, idempotencyKey) =>
      api.inject({
        method: 'POST',
        url: '/callback',
        headers: {
          'content-type': 'application/json',
          ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
        },
        payload: { object_ids: objectIds },
      }),
    stop: async () => {
      await close();
      await db.$disconnect();
      await databaseProxy.cut();
      await server.stop();
      await database.drop();
    },
  };
}
