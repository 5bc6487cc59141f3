import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ObjectServiceClient } from '../activities/object-service';
import { ObjectsRepository } from '../activities/objects-repository';
import type { Database } from '../db/prisma';

/**
 * Status checks spend their time waiting on the slow object service (up to 4.3 s), so a worker
 * holds many at once; this also caps the requests one worker sends the object service at a time.
 */
export const MAX_CONCURRENT_CHECKS = 500;

export interface PresenceWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  objectServiceUrl: string;
  objectTtlSeconds: number;
  db: Database;
}

/** A worker that runs the presence and cleanup workflows and their activities. */
export async function createPresenceWorker(options: PresenceWorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const objectService = new ObjectServiceClient(options.objectServiceUrl, { connections: MAX_CONCURRENT_CHECKS });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({
      objectService,
      objects: new ObjectsRepository(options.db),
      objectTtlSeconds: options.objectTtlSeconds,
    }),
    maxConcurrentLocalActivityExecutions: MAX_CONCURRENT_CHECKS,
    // A workflow task stays open while its local activities run, so each check in flight
    // holds a workflow task slot; the default of 40 would queue checks behind each other.
    maxConcurrentWorkflowTaskExecutions: MAX_CONCURRENT_CHECKS,
    // On shutdown, running checks get this long to finish; the rest are retried by another worker.
    shutdownGraceTime: '10s',
  });
  return { worker, close: () => objectService.close() };
}
