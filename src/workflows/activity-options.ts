import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

// Transient failures (timeouts, refused connections, 5xx, a database outage) are retried
// without a cap on attempts: giving up would drop an accepted sighting. The backoff is capped
// so that recovery is noticed within seconds once the dependency is back.
const retryForever: ActivityOptions['retry'] = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '10s',
};

/**
 * Status checks and their writes run as local activities: in the worker, inside the workflow
 * task, recorded as one marker each. A check then costs the Temporal server one workflow task
 * instead of three plus two activity tasks, which is what bounds throughput on a single server.
 * If the worker dies mid-check, the workflow task times out and another worker repeats it.
 */
export const sightingCheckOptions: LocalActivityOptions = {
  // A check bounds itself (checkObject: 5 s per request, none started past its 10 s, a deadline
  // on its write), so this is only a backstop, and it is long on purpose. The SDK's core leaves
  // each attempt's start-to-close timer running after that attempt has failed, and an earlier
  // attempt's timer then cuts a later attempt short
  // (https://github.com/temporalio/sdk-rust/issues/1454): with 10 s, a check failing for longer
  // than that kept being cut short after the failure ended, until its sighting expired. Retry
  // chains shorter than this timeout are safe from it.
  startToCloseTimeout: '2 minutes',
  // Newer sightings of the object wait behind a check in its backoff, so a check notices a
  // recovered object service or database within 2 s. That costs a failing object service at most
  // one request per check slot (OBJECT_SERVICE_MAX_CONCURRENCY) every 2 s.
  retry: { ...retryForever, maximumInterval: '2s' },
};

/**
 * The hand-out of a callback's ids. A large callback takes a while on a busy server, so the
 * attempt may run long; a worker that dies is noticed by its missing heartbeat instead, and the
 * next attempt resumes from the last heartbeat.
 */
export const handOutOptions: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '20s',
  retry: retryForever,
};

export const cleanupOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: retryForever,
};
