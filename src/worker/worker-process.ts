import { Client } from '@temporalio/client';
import { OutboxRelay } from '../callbacks/outbox-relay';
import { startCallbackWorkflow } from '../callbacks/workflow-start';
import { CallbackOutbox } from '../db/callback-outbox';
import { GracefulShutdownPeriodExpiredError, NativeConnection, type Worker } from '@temporalio/worker';
import type { HandOutBacklog } from '../activities/sighting-dispatcher';
import { databaseUrlOf, type Config } from '../config';
import { connectDatabase, isDatabaseReachable } from '../db/prisma';
import { retryUntilAvailable } from '../lifecycle';
import { createLogger, type Logger } from '../logger';
import { temporalConnectionOptions } from '../temporal/connection-options';
import { ensureCleanupSchedule } from './cleanup-schedule';
import { startWorkerHealth } from './health';
import { createWorkerMetrics } from './metrics';
import { createTemporalWorker } from './temporal-worker';

const RELAY_START_DEADLINE_MS = 5_000;

export interface WorkerProcessDeps {
  logger?: Logger;
  /** false for tests that set up expiry themselves: the schedule would delete their rows. */
  cleanupSchedule?: boolean;
}

export interface WorkerProcess {
  /** Settles once all is released; checks past the grace time are abandoned, and another worker repeats them. */
  run(): Promise<void>;
  /** Settles like run(), once everything is released. */
  shutdown(): Promise<void>;
}

// Installs no Runtime: that is once per process, for the entry point (or a test) to do.
export async function createWorkerProcess(config: Config, deps: WorkerProcessDeps = {}): Promise<WorkerProcess> {
  const logger = deps.logger ?? createLogger(config.logLevel, 'worker', config.logFormat);
  // Upserts are short: a small pool keeps up with hundreds of checks at once.
  const db = connectDatabase(databaseUrlOf(config), 20);
  let worker: Worker | undefined;
  let handOutBacklog: (() => HandOutBacklog) | undefined;
  const health = await startWorkerHealth({
    port: config.workerHealthPort,
    host: config.host,
    logger,
    workerState: () => worker?.getState() ?? 'STARTING',
    isDatabaseReachable: () => isDatabaseReachable(db),
    handOutBacklog: () => handOutBacklog?.(),
  }).catch(async (error: unknown) => {
    await db.$disconnect();
    throw error;
  });
  let connection: NativeConnection | undefined;
  let closeTemporalWorker: (() => Promise<void>) | undefined;
  let relay: OutboxRelay | undefined;
  const release = async () => {
    await relay?.stop();
    await Promise.all([closeTemporalWorker?.(), db.$disconnect(), connection?.close(), health.close()]);
  };

  try {
    connection = await retryUntilAvailable('Temporal', logger, () =>
      NativeConnection.connect(temporalConnectionOptions(config)),
    );
    if (deps.cleanupSchedule ?? true) {
      const scheduleClient = new Client({ connection, namespace: config.temporalNamespace });
      await retryUntilAvailable('Temporal', logger, () =>
        ensureCleanupSchedule(scheduleClient, {
          taskQueue: config.taskQueue,
          intervalSeconds: config.cleanupIntervalSeconds,
        }),
      );
    }
    const metrics = createWorkerMetrics();
    const temporalWorker = await createTemporalWorker(config, { connection, db, logger, metrics });
    worker = temporalWorker.worker;
    handOutBacklog = temporalWorker.handOutBacklog;
    closeTemporalWorker = temporalWorker.close;
    const client = new Client({ connection, namespace: config.temporalNamespace });
    relay = new OutboxRelay({
      outbox: new CallbackOutbox(db),
      start: (callback) =>
        client.withDeadline(Date.now() + RELAY_START_DEADLINE_MS, () =>
          startCallbackWorkflow(client, config.taskQueue, callback),
        ),
      metrics: metrics.outbox,
      logger,
    });
    relay.start();
  } catch (error) {
    await release();
    throw error;
  }

  const created = worker;
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      logger.info({ taskQueue: config.taskQueue }, 'worker started');
      try {
        await created.run();
        logger.info('worker stopped');
      } catch (error) {
        if (!(error instanceof GracefulShutdownPeriodExpiredError)) throw error;
        logger.warn('checks still running after the shutdown grace time were abandoned; another worker repeats them');
      } finally {
        await release();
      }
    })());
  return {
    run,
    shutdown: async () => {
      // The SDK lets go of a worker's hold on its connection only as run() ends, so a worker that
      // never ran is run and stopped at once.
      const stopped = run();
      if (created.getState() === 'RUNNING') created.shutdown();
      await stopped;
    },
  };
}
