import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { databaseUrlOf, type Config } from '../config';
import { connectDatabase, isDatabaseReachable } from '../db/prisma';
import { createLogger, type Logger } from '../logger';
import { lazyClient } from '../temporal/client';
import { buildApp } from './app';
import { OUTBOX_STATEMENT_TIMEOUT_MS, temporalOrOutboxRecorder } from '../callbacks/outbox-fallback-recorder';
import { RECORDER_GRPC_RETRY } from '../callbacks/temporal-recorder';

export interface Api {
  app: FastifyInstance;
  /** Connects on first use, so callbacks go to the outbox while Temporal is away. */
  client: Client;
  listen(): Promise<string>;
  /** Waits for in-flight callbacks to be recorded before disconnecting. */
  close(): Promise<void>;
}

export function createApi(config: Config, { logger }: { logger?: Logger } = {}): Api {
  const client = lazyClient(config, RECORDER_GRPC_RETRY);
  // Readiness probes, and outbox inserts while Temporal is away: PostgreSQL cancels an insert still
  // running when its callback's answer is due, so that nothing of it commits later.
  const db = connectDatabase(databaseUrlOf(config), 10, OUTBOX_STATEMENT_TIMEOUT_MS);
  const app = buildApp({
    recorder: temporalOrOutboxRecorder(client, config.taskQueue, db),
    isDatabaseReachable: () => isDatabaseReachable(db),
    callbackToken: config.callbackToken,
    logger: logger ?? createLogger(config.logLevel, 'api', config.logFormat),
  });
  return {
    app,
    client,
    listen: () => app.listen({ port: config.port, host: config.host }),
    close: async () => {
      await app.close();
      await Promise.all([client.connection.close(), db.$disconnect()]);
    },
  };
}
