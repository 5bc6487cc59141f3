import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { AdaptiveConcurrency } from '../activities/adaptive-concurrency';
import { createHandOut } from '../activities/hand-out';
import { SightingDispatcher, type HandOutBacklog } from '../activities/sighting-dispatcher';
import { createSightingSignal } from '../activities/sighting-signal';
import { ObjectServiceClient } from '../activities/object-service';
import { ObjectsRepository } from '../activities/objects-repository';
import type { Config } from '../config';
import type { Database } from '../db/prisma';
import type { Logger } from '../logger';
import { CallbackOutbox } from '../callbacks/outbox';
import { OutboxRelay } from '../callbacks/outbox-relay';
import { startCallbackWorkflow } from '../callbacks/workflow-start';
import { ensureObjectIdSearchAttribute } from './object-id-search-attribute';
import { workflowCode } from './workflow-code';

/** What the worker process has already opened, shared with its other parts. */
export interface PresenceWorkerConnections {
  connection: NativeConnection;
  db: Database;
  logger: Logger;
}

/**
 * Signal-with-starts the hand-outs of one worker send at once: as many as Temporal answers
 * within twice its quickest recent answer. Past that they only queue in the server, ahead of the
 * API's callback starts; on a single dev server that queue is what the acknowledgements wait in.
 */
const handOutConcurrency = () => new AdaptiveConcurrency({ initial: 4, min: 2, max: 500, tolerance: 2, floorMs: 5 });

function handOutMetrics() {
  const meter = Runtime.instance().metricMeter;
  return {
    backlog: meter.createGauge(
      'presence_handout_backlog',
      'int',
      'ids',
      'Distinct ids of accepted callbacks this worker has yet to hand to their object workflow',
    ),
    lagSeconds: meter.createGauge(
      'presence_handout_lag_seconds',
      'float',
      's',
      'Age (since receipt) of the oldest sighting this worker has yet to hand out or cover by a newer one',
    ),
    coalesced: meter.createCounter(
      'presence_sightings_coalesced',
      'ids',
      'Sightings handed out without a signal of their own: a sighting of the same id at least as new was delivered',
    ),
    expired: meter.createCounter(
      'presence_sightings_expired',
      'ids',
      'Ids not handed out because their callback was older than the TTL',
    ),
  };
}

/** How often the backlog gauges are brought up to date: the lag grows while nothing happens. */
const BACKLOG_REPORT_INTERVAL_MS = 1_000;

function outboxMetrics() {
  const meter = Runtime.instance().metricMeter;
  return {
    callbacks: meter.createGauge(
      'presence_outbox_callbacks',
      'int',
      'callbacks',
      'Callbacks waiting in the outbox for Temporal',
    ),
    oldestAgeSeconds: meter.createGauge(
      'presence_outbox_oldest_age_seconds',
      'float',
      's',
      'Age of the oldest callback waiting in the outbox',
    ),
  };
}

/** How long the relay waits for Temporal to start one callback's workflow. */
const RELAY_START_DEADLINE_MS = 5_000;

/** A worker that runs the callback, presence and cleanup workflows and their activities. */
export async function createPresenceWorker(
  config: Config,
  { connection, db, logger }: PresenceWorkerConnections,
): Promise<{ worker: Worker; handOutBacklog: () => HandOutBacklog; close: () => Promise<void> }> {
  // Checks mostly wait on the slow object service, so one worker runs many at once, each with its
  // own request to the object service.
  const maxConcurrentChecks = config.objectServiceMaxConcurrency;
  const objectService = new ObjectServiceClient(config.objectServiceUrl, { connections: maxConcurrentChecks });
  // The worker's own connection also carries the hand-outs' signal-with-starts and the relay's starts.
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const relay = new OutboxRelay({
    outbox: new CallbackOutbox(db),
    start: (callback) =>
      client.withDeadline(Date.now() + RELAY_START_DEADLINE_MS, () =>
        startCallbackWorkflow(client, config.taskQueue, callback),
      ),
    metrics: outboxMetrics(),
    logger,
  });
  const objectIdSearchAttribute = await ensureObjectIdSearchAttribute(client, config.temporalNamespace, logger);
  const metrics = handOutMetrics();
  const dispatcher = new SightingDispatcher({
    deliver: createSightingSignal({ client, taskQueue: config.taskQueue, objectIdSearchAttribute }),
    concurrency: handOutConcurrency(),
    ttlMs: config.objectTtlSeconds * 1000,
    onCoalesced: (count) => metrics.coalesced.add(count),
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ...workflowCode(),
    activities: {
      ...createActivities({
        objectService,
        objects: new ObjectsRepository(db),
        objectTtlSeconds: config.objectTtlSeconds,
      }),
      handOutSightings: createHandOut({ dispatcher, metrics }),
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
  relay.start();
  const reportBacklog = setInterval(() => {
    const { ids, lagSeconds } = dispatcher.backlog();
    metrics.backlog.set(ids);
    metrics.lagSeconds.set(lagSeconds);
  }, BACKLOG_REPORT_INTERVAL_MS);
  return {
    worker,
    handOutBacklog: () => dispatcher.backlog(),
    close: async () => {
      clearInterval(reportBacklog);
      await relay.stop();
      await objectService.close();
    },
  };
}
