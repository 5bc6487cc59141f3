import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createHandOut } from '../activities/hand-out';
import { createObjectActivities } from '../activities/object-activities';
import { ObjectServiceClient } from '../activities/object-service';
import { SightingDispatcher, type HandOutBacklog } from '../activities/sighting-dispatcher';
import { createSightingSignal } from '../activities/sighting-signal';
import type { Config } from '../config';
import { ObjectsRepository } from '../db/objects-repository';
import type { Database } from '../db/prisma';
import type { Logger } from '../logger';
import { checkInterval, signalRestMs } from './check-interval';
import { cleanupTaskQueue } from './cleanup-schedule';
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

/** Signals one worker's hand-outs send at once into running workflows: with several workers each signals the whole fleet. */
const SIGNALS_IN_FLIGHT = 32;
/** Signal-with-starts that likely start a workflow: more at once outrun the workers' first tasks, which then spool. */
const STARTS_IN_FLIGHT = 4;

/** How often the backlog and object-service gauges are brought up to date. */
const GAUGE_INTERVAL_MS = 1_000;

/** The main worker's activity slots: hand-outs mostly wait for their turn in the dispatcher, each holding one. */
export const ACTIVITY_SLOTS = 1_000;

/** Past the grace time, running activities are cancelled; past the force time, a worker stops regardless. */
const SHUTDOWN_TIMES = { shutdownGraceTime: '10s', shutdownForceTime: '20s' } satisfies Partial<WorkerOptions>;

/** The process's two Temporal workers: the main one, and the cleanup's, whose slots no hand-out can take. */
export async function createTemporalWorkers(
  config: Config,
  { connection, db, logger, metrics }: TemporalWorkerConnections,
): Promise<{ workers: Worker[]; handOutBacklog: () => HandOutBacklog; close: () => Promise<void> }> {
  const objectService = new ObjectServiceClient(config.objectServiceUrl, {
    connections: config.objectServiceMaxConcurrency,
  });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const objectIdSearchAttribute = await ensureObjectIdSearchAttribute(client, config.temporalNamespace, logger);
  const interval = checkInterval(config);
  const dispatcher = new SightingDispatcher({
    deliver: createSightingSignal({ client, taskQueue: config.taskQueue, objectIdSearchAttribute, interval }),
    concurrency: { signals: SIGNALS_IN_FLIGHT, starts: STARTS_IN_FLIGHT },
    ttlMs: config.objectTtlSeconds * 1000,
    onCoalesced: (count) => metrics.handOut.coalesced.add(count),
    // The workflow would not check sooner anyway; its own bound holds with any number of workers.
    restMs: interval && signalRestMs(interval),
    maxWaiting: config.handOutMaxWaiting,
  });
  const { deleteStaleObjects, ...checkActivities } = createObjectActivities({
    objectService,
    objects: new ObjectsRepository(db),
    objectTtlSeconds: config.objectTtlSeconds,
    metrics: metrics.objects,
  });
  const shared = { connection, namespace: config.temporalNamespace, ...(await workflowCode()), ...SHUTDOWN_TIMES };
  const workers: Worker[] = [];
  try {
    for (const options of [
      {
        ...shared,
        taskQueue: config.taskQueue,
        activities: {
          ...checkActivities,
          handOutSightings: createHandOut({ dispatcher, metrics: metrics.handOut }),
        },
        maxConcurrentActivityTaskExecutions: ACTIVITY_SLOTS,
        // The object service's budget: local activities are not subject to the task queue's rate limits.
        maxConcurrentLocalActivityExecutions: config.objectServiceMaxConcurrency,
        // A check holds its workflow task's slot; the rest keep sightings and timers from waiting behind checks.
        maxConcurrentWorkflowTaskExecutions: config.objectServiceMaxConcurrency + 100,
        // A burst of new ids' first workflow tasks comes from the shared queue, not the sticky one.
        workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 20 },
        nonStickyToStickyPollRatio: 0.5,
      },
      {
        ...shared,
        // The bundle holds every workflow, but only the Schedule starts one on this queue: the cleanup.
        taskQueue: cleanupTaskQueue(config.taskQueue),
        activities: { deleteStaleObjects },
        // The Schedule skips a run while one runs: one delete at a time, and its workflow's few tasks.
        maxConcurrentActivityTaskExecutions: 1,
        maxConcurrentWorkflowTaskExecutions: 2,
        maxCachedWorkflows: 2,
      },
    ] satisfies WorkerOptions[]) {
      workers.push(await Worker.create(options));
    }
  } catch (error) {
    await Promise.all([...workers.map(discard), objectService.close()]);
    throw error;
  }
  const gauges = setInterval(() => {
    const { ids, lagSeconds } = dispatcher.backlog();
    metrics.handOut.backlog.set(ids);
    metrics.handOut.lagSeconds.set(lagSeconds);
    const { inFlight, waiting } = objectService.load();
    metrics.objectService.requests.set(inFlight);
    metrics.objectService.waiting.set(waiting);
  }, GAUGE_INTERVAL_MS);
  return {
    workers,
    handOutBacklog: () => dispatcher.backlog(),
    close: async () => {
      clearInterval(gauges);
      await objectService.close();
    },
  };
}

/** A worker holds its connection until run() ends, so one that will never serve is run and stopped at once. */
async function discard(worker: Worker): Promise<void> {
  const running = worker.run();
  worker.shutdown();
  await running;
}
