import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

// Transient failures (timeouts, refused connections, 5xx, a database outage) are retried without
// a cap on attempts: giving up would drop an accepted sighting.
const retryForever: ActivityOptions['retry'] = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '10s',
};

/**
 * A check is a local activity: it runs inside the workflow's own task, sparing the server an
 * activity task and its events. Retries whose backoff passes a second wait on a workflow timer.
 */
export const checkOptions: LocalActivityOptions = {
  // One status request (5 s) and one write (5 s statement timeout).
  startToCloseTimeout: '10s',
  localRetryThreshold: '1s',
  // A check in backoff holds back its object's newer sightings: notice a recovery within 2 s.
  retry: { ...retryForever, maximumInterval: '2s' },
};

/** A large callback's hand-out may run long; a dead worker is noticed by its missing heartbeat. */
export const handOutOptions: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '20s',
  retry: retryForever,
};

export const cleanupOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: retryForever,
};
