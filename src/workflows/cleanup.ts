import { proxyActivities } from '@temporalio/workflow';
import type { PresenceActivities } from './contracts';
import { cleanupOptions } from './activity-options';

const { deleteStaleObjects } = proxyActivities<PresenceActivities>(cleanupOptions);

/**
 * Run by the cleanup schedule: forgets objects not seen within the TTL, which the activity takes
 * from its worker's configuration, so one setting decides both what a check writes and what expires.
 */
export async function cleanupWorkflow(): Promise<number> {
  return deleteStaleObjects();
}
