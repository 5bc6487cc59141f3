import { proxyActivities } from '@temporalio/workflow';
import type { PresenceActivities } from '../activities';
import { cleanupOptions } from './activity-options';

const { deleteStaleObjects } = proxyActivities<PresenceActivities>(cleanupOptions);

/** Run by the cleanup schedule: forgets objects not seen within the TTL. */
export async function cleanupWorkflow(ttlSeconds: number): Promise<number> {
  return deleteStaleObjects(ttlSeconds);
}
