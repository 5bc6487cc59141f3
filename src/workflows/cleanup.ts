import { proxyActivities } from '@temporalio/workflow';
import type { PresenceActivities } from '../activities';
import { cleanupOptions } from './activity-options';

const { deleteStaleObjects } = proxyActivities<PresenceActivities>(cleanupOptions);

/**
 * Run by the cleanup schedule: forgets objects not seen within the TTL, which the activity takes
 * from its worker's configuration. Runs started by schedules of earlier releases pass the TTL as
 * an argument; it is ignored, so one setting decides both what a check writes and what expires.
 */
export async function cleanupWorkflow(): Promise<number> {
  return deleteStaleObjects();
}
