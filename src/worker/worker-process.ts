import { Client } from '@temporalio/client';
import { OutboxRelay } from '../callbacks/outbox-relay';
import { startCallbackWorkflow } from '../callbacks/workflow-start';
import { CallbackOutbox } from '../db/callback-outbox';
import { GracefulShutdownPeriodExpiredError, NativeConnection, type State, type Worker } from '@temporalio/worker';
import type { HandOutBacklog } from '../activities/sighting-dispatcher';
import { databaseUrlOf, type Config } from '../config';
import { connectDatabase, isDatabaseReachable } from '../db/prisma';
import { withinDeadline } from '../deadline';
import { retryUntilAvailable } from '../lifecycle';
import { createLogger, type Logger } from '../logger';
import { temporalConnectionOptions } from '../temporal/connection-options';
import { cleanupTaskQueue, ensureCleanupSchedule } from './cleanup-schedule';
import { startWorkerHealth } from './health';
import { createWorkerMetrics } from './metrics';
import { createTemporalWorkers } from './temporal-worker';

const RELAY_START_DEADLINE_MS = 5_000;
const DISCONNECT_DEADLINE_MS = 5_000;

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
  let workers: Worker[] | undefined;
  let handOutBacklog: (() => HandOutBacklog) | undefined;
  const health = await startWorkerHealth({
    port: config.workerHealthPort,
    host: config.host,
    logger,
    workerState: () => (workers ? leastReadyState(workers) : 'STARTING'),
    isDatabaseReachable: () => isDatabaseReachable(db),
    handOutBacklog: () => handOutBacklog?.(),
  }).catch(async (error: unknown) => {
    await db.$disconnect();
    throw error;
  });
  let connection: NativeConnection | undefined;
  let closeTemporalWorkers: (() => Promise<void>) | undefined;
  let relay: OutboxRelay | undefined;
  const release = async () => {
    await relay?.stop();
    // A pool connection that a transaction broken mid-way never gave back would hold it forever.
    const disconnected = withinDeadline(db.$disconnect(), DISCONNECT_DEADLINE_MS, 'the database pool').catch(
      (error: unknown) => logger.warn({ err: error }, 'database connections left open at shutdown'),
    );
    await Promise.all([closeTemporalWorkers?.(), disconnected, connection?.close(), health.close()]);
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
    const temporalWorkers = await createTemporalWorkers(config, { connection, db, logger, metrics });
    workers = temporalWorkers.workers;
    handOutBacklog = temporalWorkers.handOutBacklog;
    closeTemporalWorkers = temporalWorkers.close;
    const client = new Client({ connection, namespace: config.temporalNamespace });
    relay = new OutboxRelay({
      outbox: new CallbackOutbox(db),
      start: (callback) =>
        client.withDeadline(Date.now() + RELAY_START_DEADLINE_MS, () =>
          startCallbackWorkflow(client, config.taskQueue, callback),
        ),
      ttlSeconds: config.objectTtlSeconds,
      metrics: metrics.outbox,
      logger,
    });
    relay.start();
  } catch (error) {
    await release();
    throw error;
  }

  const created = workers;
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      logger.info(
        { taskQueue: config.taskQueue, cleanupTaskQueue: cleanupTaskQueue(config.taskQueue) },
        'worker started',
      );
      try {
        await runTogether(created);
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
      stopRunning(created);
      await stopped;
    },
  };
}

/** RUNNING only while every Temporal worker of the process runs; otherwise the state of one that does not. */
const leastReadyState = (workers: Worker[]): State =>
  workers.map((worker) => worker.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING';

const stopRunning = (workers: Worker[]): void => {
  for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
};

/** Runs the workers until one stops, for whatever reason, then stops the others; fails as the first that failed. */
async function runTogether(workers: Worker[]): Promise<void> {
  const outcomes = await Promise.allSettled(workers.map((worker) => worker.run().finally(() => stopRunning(workers))));
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
}
