import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  AdaptiveConcurrency,
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

/**
 * Signal-with-starts the hand-outs of one worker send at once: as many as Temporal answers
 * within twice its quickest recent answer. Past that they only queue in the server, ahead of the
 * API's callback starts; on a single dev server that queue is what the acknowledgements wait in.
 */
const handOutConcurrency = () => new AdaptiveConcurrency({ initial: 4, min: 2, max: 500, tolerance: 2, floorMs: 5 });

/** How often the backlog and object-service gauges are brought up to date: the lag grows while nothing happens. */
const BACKLOG_REPORT_INTERVAL_MS = 1_000;

/** The Temporal worker that runs the callback, presence and cleanup workflows and their activities. */
export async function createTemporalWorker(
  config: Config,
  { connection, db, logger, metrics }: TemporalWorkerConnections,
): Promise<{ worker: Worker; handOutBacklog: () => HandOutBacklog; close: () => Promise<void> }> {
  // Checks mostly wait on the slow object service, so one worker runs many at once, each with its
  // own request to the object service.
  const maxConcurrentChecks = config.objectServiceMaxConcurrency;
  const objectService = new ObjectServiceClient(config.objectServiceUrl, { connections: maxConcurrentChecks });
  // The worker's own connection also carries the hand-outs' signal-with-starts.
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const objectIdSearchAttribute = await ensureObjectIdSearchAttribute(client, config.temporalNamespace, logger);
  const dispatcher = new SightingDispatcher({
    deliver: createSightingSignal({ client, taskQueue: config.taskQueue, objectIdSearchAttribute }),
    concurrency: handOutConcurrency(),
    ttlMs: config.objectTtlSeconds * 1000,
    onCoalesced: (count) => metrics.handOut.coalesced.add(count),
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ...workflowCode(),
    activities: {
      ...createObjectActivities({
        objectService,
        objects: new ObjectsRepository(db),
        objectTtlSeconds: config.objectTtlSeconds,
        metrics: metrics.objects,
        sightings: dispatcher,
      }),
      handOutSightings: createHandOut({ dispatcher, metrics: metrics.handOut }),
    },
    // Local activities are not subject to the task queue's activity rate limit, so this
    // per-worker slot count is what protects the object service.
    maxConcurrentLocalActivityExecutions: maxConcurrentChecks,
    // A workflow task stays open while its local activities run, so each check in flight holds a
    // workflow task slot. The extra slots keep tasks without a check (a sighting arriving, an
    // idle timer firing) from queueing behind a full set of checks.
    maxConcurrentWorkflowTaskExecutions: maxConcurrentChecks + 100,
    // Every new id's first workflow task comes from the shared queue, where the default of 10
    // pollers (2 of them for that queue) waits a loaded server's round trip per task: with a
    // burst of new ids that held dispatch to a few tasks a second. 10 on each queue fixes that.
    // Autoscaling pollers dispatched a little faster still, but on a dev server short of CPU
    // they slowed the API's signal-with-starts enough to turn callbacks away during a database
    // outage (docs/performance.md).
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 20 },
    nonStickyToStickyPollRatio: 0.5,
    // On shutdown, running checks get this long to finish; the rest are retried by another worker.
    shutdownGraceTime: '10s',
    // Checks stuck retrying against a dead object service can keep a graceful shutdown from ever
    // ending; past this the worker gives up on them. Their workflow tasks time out on the server
    // and another worker repeats the checks.
    shutdownForceTime: '20s',
  });
  const reportBacklog = setInterval(() => {
    const { ids, lagSeconds } = dispatcher.backlog();
    metrics.handOut.backlog.set(ids);
    metrics.handOut.lagSeconds.set(lagSeconds);
    const { inFlight, waiting } = objectService.load();
    metrics.objectService.requests.set(inFlight);
    metrics.objectService.waiting.set(waiting);
  }, BACKLOG_REPORT_INTERVAL_MS);
  return {
    worker,
    handOutBacklog: () => dispatcher.backlog(),
    close: async () => {
      clearInterval(reportBacklog);
      await objectService.close();
    },
  };
}
