import { loadConfig, databaseUrlOf } from '../config';
import { connectDatabase, isDatabaseReachable } from '../db/prisma';
import { exitOnFatalError, onShutdownSignal } from '../lifecycle';
import { createLogger } from '../logger';
import { lazyClient } from '../temporal/client';
import { buildApp } from './app';
import { temporalOrOutboxRecorder } from './outbox-callback-recorder';
import { RECORDER_GRPC_RETRY } from './temporal-callback-recorder';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api');
  const client = lazyClient(config, RECORDER_GRPC_RETRY);
  // Readiness probes, and outbox inserts while Temporal is away.
  const db = connectDatabase(databaseUrlOf(config), 10);
  const app = buildApp({
    recorder: temporalOrOutboxRecorder(client, config.taskQueue, db),
    isDatabaseReachable: () => isDatabaseReachable(db),
    callbackToken: config.callbackToken,
    logger,
  });
  onShutdownSignal(logger, async () => {
    // close() stops accepting connections and waits for in-flight callbacks to be recorded.
    await app.close();
    await Promise.all([client.connection.close(), db.$disconnect()]);
  });
  await app.listen({ port: config.port, host: config.host });
}

main().catch(exitOnFatalError(createLogger('info', 'api')));
