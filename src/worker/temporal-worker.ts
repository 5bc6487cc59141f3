import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type State } from '@temporalio/worker';
import {
  createHandOut,
  createObjectActivities,
  createSightingSignal,
  ObjectServiceClient,
  SightingDispatcher,
  type HandOutBacklog,
} from '../activities';
import type { Config } from '../config';
import { ObjectsRepository } from '../db/objects-repository';
import type { Database } from '../db/prisma';
import type { Logger } from '../logger';
import { checkTaskQueue } from '../workflows';
import type { WorkerMetrics } from './metrics';
import { ensureObjectIdSearchAttribute } from './object-id-search-attribute';
import { workflowCode } from './workflow-code';

/** What the worker process has already opened, shared with its other parts. */
export interface TemporalWorkerConnections {
  connection: NativeConnection;
  db: Database;
  logger: Logger;
  metrics: WorkerMetrics;
}

/** Signal-with-starts one worker's hand-outs send at once; more only queue in the server, ahead of the API's starts. */
const SIGNALS_IN_FLIGHT = 4;

/** How often the backlog and object-service gauges are brought up to date. */
const GAUGE_INTERVAL_MS = 1_000;

/** The workflows, the hand-outs and the cleanup on the task queue; the checks on their own, bounded by the object service's budget. */
export interface PresenceWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): State;
}

export async function createTemporalWorker(
  config: Config,
  { connection, db, logger, metrics }: TemporalWorkerConnections,
): Promise<{ worker: PresenceWorker; handOutBacklog: () => HandOutBacklog; close: () => Promise<void> }> {
  const objectService = new ObjectServiceClient(config.objectServiceUrl, {
    connections: config.objectServiceMaxConcurrency,
  });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const objectIdSearchAttribute = await ensureObjectIdSearchAttribute(client, config.temporalNamespace, logger);
  const dispatcher = new SightingDispatcher({
    deliver: createSightingSignal({ client, taskQueue: config.taskQueue, objectIdSearchAttribute }),
    concurrency: SIGNALS_IN_FLIGHT,
    ttlMs: config.objectTtlSeconds * 1000,
    onCoalesced: (count) => metrics.handOut.coalesced.add(count),
  });
  const { checkObject, deleteStaleObjects } = createObjectActivities({
    objectService,
    objects: new ObjectsRepository(db),
    objectTtlSeconds: config.objectTtlSeconds,
    metrics: metrics.objects,
  });
  // Past the grace time, running checks are cancelled; past the force time, the worker stops regardless.
  const shared = {
    connection,
    namespace: config.temporalNamespace,
    shutdownGraceTime: '10s',
    shutdownForceTime: '20s',
  } as const;
  const workers = await Promise.all([
    Worker.create({
      ...shared,
      taskQueue: config.taskQueue,
      ...workflowCode(),
      activities: { deleteStaleObjects, handOutSightings: createHandOut({ dispatcher, metrics: metrics.handOut }) },
      maxConcurrentWorkflowTaskExecutions: 100,
      // A burst of new ids' first workflow tasks comes from the shared queue, not the sticky one.
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 20 },
      nonStickyToStickyPollRatio: 0.5,
    }),
    Worker.create({
      ...shared,
      taskQueue: checkTaskQueue(config.taskQueue),
      activities: { checkObject },
      maxConcurrentActivityTaskExecutions: config.objectServiceMaxConcurrency,
    }),
  ]);
  const gauges = setInterval(() => {
    const { ids, lagSeconds } = dispatcher.backlog();
    metrics.handOut.backlog.set(ids);
    metrics.handOut.lagSeconds.set(lagSeconds);
    const { inFlight, waiting } = objectService.load();
    metrics.objectService.requests.set(inFlight);
    metrics.objectService.waiting.set(waiting);
  }, GAUGE_INTERVAL_MS);
  return {
    worker: runTogether(workers),
    handOutBacklog: () => dispatcher.backlog(),
    close: async () => {
      clearInterval(gauges);
      await objectService.close();
    },
  };
}

/** Runs the workers as one: when one stops, the others are stopped too. */
function runTogether(workers: Worker[]): PresenceWorker {
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    run: async () => {
      const stopped = await Promise.allSettled(workers.map((worker) => worker.run().finally(shutdown)));
      const failed = stopped.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
    getState: () => workers.map((worker) => worker.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING',
  };
}
