import { Client } from '@temporalio/client';
import { GracefulShutdownPeriodExpiredError, NativeConnection, Runtime } from '@temporalio/worker';
import { databaseUrlOf, loadConfig } from '../config';
import { connectDatabase } from '../db/prisma';
import { exitOnFatalError, retryUntilAvailable } from '../lifecycle';
import { createLogger } from '../logger';
import { temporalConnectionOptions } from '../temporal/connection-options';
import { ensureCleanupSchedule } from './cleanup-schedule';
import { createPresenceWorker } from './presence-worker';
import { temporalLoggerFor } from './temporal-logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'worker');
  // The runtime stops the worker on SIGINT/SIGTERM: polling ends, running activities get the grace time.
  Runtime.install({
    logger: temporalLoggerFor(logger),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    // The SDK's own metrics (task latencies, slots, poll results) plus ours, for Prometheus.
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: `0.0.0.0:${config.workerMetricsPort}`,
          countersTotalSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
  });

  const connection = await retryUntilAvailable('Temporal', logger, () =>
    NativeConnection.connect(temporalConnectionOptions(config)),
  );
  // The worker's own connection serves the schedule client too: no second connection at start-up.
  const scheduleClient = new Client({ connection, namespace: config.temporalNamespace });
  await retryUntilAvailable('Temporal', logger, () =>
    ensureCleanupSchedule(scheduleClient, {
      taskQueue: config.taskQueue,
      intervalSeconds: config.cleanupIntervalSeconds,
    }),
  );
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
    logger,
  });
  logger.info({ taskQueue: config.taskQueue }, 'worker started');
  try {
    await worker.run();
    logger.info('worker stopped');
  } catch (error) {
    if (!(error instanceof GracefulShutdownPeriodExpiredError)) throw error;
    logger.warn('checks still running after the shutdown grace time were abandoned; another worker repeats them');
  }
  await Promise.all([close(), db.$disconnect(), connection.close()]);
}

main().catch(exitOnFatalError(createLogger('info', 'worker')));
