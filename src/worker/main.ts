import { NativeConnection, Runtime } from '@temporalio/worker';
import { databaseUrlOf, loadConfig, temporalAddressOf } from '../config';
import { connectDatabase } from '../db/prisma';
import { exitOnStartupFailure } from '../lifecycle';
import { createLogger } from '../logger';
import { connectClient } from '../temporal/client';
import { ensureCleanupSchedule } from './cleanup-schedule';
import { createPresenceWorker } from './presence-worker';
import { temporalLoggerFor } from './temporal-logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'worker');
  // The runtime stops the worker on SIGINT/SIGTERM: polling ends, running activities get the grace time.
  Runtime.install({ logger: temporalLoggerFor(logger), shutdownSignals: ['SIGINT', 'SIGTERM'] });

  const client = await connectClient(config);
  await ensureCleanupSchedule(client, {
    taskQueue: config.taskQueue,
    intervalSeconds: config.cleanupIntervalSeconds,
    ttlSeconds: config.objectTtlSeconds,
  });
  await client.connection.close();

  const connection = await NativeConnection.connect({ address: temporalAddressOf(config) });
  // Upserts take a millisecond or two; a small pool keeps up with hundreds of checks at once.
  const db = connectDatabase(databaseUrlOf(config), 20);
  const { worker, close } = await createPresenceWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    objectServiceUrl: config.objectServiceUrl,
    objectTtlSeconds: config.objectTtlSeconds,
    maxConcurrentChecks: config.objectServiceMaxConcurrency,
    db,
  });
  logger.info({ taskQueue: config.taskQueue }, 'worker started');
  await worker.run();
  await Promise.all([close(), db.$disconnect(), connection.close()]);
  logger.info('worker stopped');
}

main().catch(exitOnStartupFailure(createLogger('info', 'worker')));
