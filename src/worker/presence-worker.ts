import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ObjectServiceClient } from '../activities/object-service';
import { ObjectsRepository } from '../activities/objects-repository';
import type { Database } from '../db/prisma';
import { workflowCode } from './workflow-code';

export interface PresenceWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  objectServiceUrl: string;
  objectTtlSeconds: number;
  /**
   * Checks this worker runs at once, which is also how many requests it sends the object service
   * at a time. Checks mostly wait on the slow object service, so this can be high.
   */
  maxConcurrentChecks: number;
  db: Database;
}

/** A worker that runs the presence and cleanup workflows and their activities. */
export async function createPresenceWorker(options: PresenceWorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const objectService = new ObjectServiceClient(options.objectServiceUrl, { connections: options.maxConcurrentChecks });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflowCode(),
    activities: createActivities({
      objectService,
      objects: new ObjectsRepository(options.db),
      objectTtlSeconds: options.objectTtlSeconds,
    }),
    // Local activities are not subject to the task queue's activity rate limit, so this
    // per-worker slot count is what protects the object service.
    maxConcurrentLocalActivityExecutions: options.maxConcurrentChecks,
    // A workflow task stays open while its local activities run, so each check in flight holds a
    // workflow task slot. The extra slots keep tasks without a check (a sighting arriving, an
    // idle timer firing) from queueing behind a full set of checks.
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentChecks + 100,
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
  return { worker, close: () => objectService.close() };
}
