import type { ActivityOptions } from '@temporalio/workflow';

// Transient failures (timeouts, refused connections, 5xx, a database outage) are retried
// without a cap on attempts: giving up would drop an accepted sighting. The backoff is capped
// so that recovery is noticed within seconds once the dependency is back.
const retryForever: ActivityOptions['retry'] = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '10s',
};

export const statusCheckOptions: ActivityOptions = {
  // Longer than the object service's own per-request timeout (OBJECT_SERVICE_TIMEOUT in
  // src/activities/object-service.ts), so a hung request fails in the activity first.
  startToCloseTimeout: '10s',
  retry: retryForever,
};

export const databaseWriteOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: retryForever,
};
