import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
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

export async function createTemporalWorker(
  config: Config,
  { connection, db, logger, metrics }: TemporalWorkerConnections,
): Promise<{ worker: Worker; handOutBacklog: () => HandOutBacklog; close: () => Promise<void> }> {
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
      }),
      handOutSightings: createHandOut({ dispatcher, metrics: metrics.handOut }),
    },
    // Hand-outs mostly wait for their turn in the dispatcher; many at once must leave the cleanup a slot.
    maxConcurrentActivityTaskExecutions: 1_000,
    // The object service's budget: local activities are not subject to the task queue's rate limits.
    maxConcurrentLocalActivityExecutions: config.objectServiceMaxConcurrency,
    // A check holds its workflow task's slot; the rest keep sightings and timers from waiting behind checks.
    maxConcurrentWorkflowTaskExecutions: config.objectServiceMaxConcurrency + 100,
    // A burst of new ids' first workflow tasks comes from the shared queue, not the sticky one.
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 20 },
    nonStickyToStickyPollRatio: 0.5,
    // Past the grace time, running checks are cancelled; past the force time, the worker stops regardless.
    shutdownGraceTime: '10s',
    shutdownForceTime: '20s',
  });
  const gauges = setInterval(() => {
    const { ids, lagSeconds } = dispatcher.backlog();
    metrics.handOut.backlog.set(ids);
    metrics.handOut.lagSeconds.set(lagSeconds);
    const { inFlight, waiting } = objectService.load();
    metrics.objectService.requests.set(inFlight);
    metrics.objectService.waiting.set(waiting);
  }, GAUGE_INTERVAL_MS);
  return {
    worker,
    handOutBacklog: () => dispatcher.backlog(),
    close: async () => {
      clearInterval(gauges);
      await objectService.close();
    },
  };
}
