import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { cleanupWorkflow } from '../workflows';

export const CLEANUP_SCHEDULE_ID = 'objects-cleanup';

/**
 * The cleanup's own task queue, beside the service's: its worker has slots of its own, which the
 * hand-outs waiting their turn in the dispatcher cannot take.
 */
export const cleanupTaskQueue = (taskQueue: string): string => `${taskQueue}-cleanup`;

export interface CleanupScheduleSettings {
  /** The service's task queue (TEMPORAL_TASK_QUEUE); the cleanup runs on its cleanupTaskQueue. */
  taskQueue: string;
  intervalSeconds: number;
}

function cleanupScheduleOptions({ taskQueue, intervalSeconds }: CleanupScheduleSettings) {
  return {
    scheduleId: CLEANUP_SCHEDULE_ID,
    spec: { intervals: [{ every: `${intervalSeconds}s` }] },
    action: {
      type: 'startWorkflow',
      workflowType: cleanupWorkflow,
      workflowId: 'objects-cleanup-run',
      taskQueue: cleanupTaskQueue(taskQueue),
      // No TTL: the worker's own setting decides, the one its checks use.
      args: [] as [],
    },
    // A cleanup still running (say, the database is slow) makes the next one redundant.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${Math.max(intervalSeconds, 60)}s` },
  } satisfies ScheduleOptions;
}

// Every worker calls this at start-up: the first creates the schedule, the rest converge on it.
export async function ensureCleanupSchedule(client: Client, settings: CleanupScheduleSettings): Promise<void> {
  const options = cleanupScheduleOptions(settings);
  try {
    await client.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(CLEANUP_SCHEDULE_ID).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
  }
}
