import type { MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { OUTBOX_LIMIT } from '../db/callback-outbox';

const CHECK_WAIT_HISTOGRAM = 'presence_check_wait_seconds';
const ROW_DELAY_HISTOGRAM = 'presence_row_delay_seconds';

// Once per process: on the Runtime's meter they are exported beside the SDK's (counters gain `_total`).
export function createWorkerMetrics(meter: MetricMeter = Runtime.instance().metricMeter) {
  return {
    handOut: {
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
        'Sightings handed out without a signal of their own: a sighting of the same id at least as new was delivered, or a running check served it',
      ),
      expired: meter.createCounter(
        'presence_sightings_expired',
        'ids',
        'Ids not handed out because their callback was older than the TTL',
      ),
    },
    outbox: {
      callbacks: meter.createGauge(
        'presence_outbox_callbacks',
        'int',
        'callbacks',
        `Callbacks waiting in the outbox for Temporal, counted up to its limit (${OUTBOX_LIMIT})`,
      ),
      oldestAgeSeconds: meter.createGauge(
        'presence_outbox_oldest_age_seconds',
        'float',
        's',
        'Age of the oldest callback waiting in the outbox',
      ),
      expired: meter.createCounter(
        'presence_outbox_expired',
        'callbacks',
        'Callbacks dropped from the outbox, not started, because they were older than the TTL: every id in them would have expired',
      ),
      conflicts: meter.createCounter(
        'presence_outbox_conflicts',
        'callbacks',
        'Callbacks dropped from the outbox, not started, because their Idempotency-Key names a callback with other ids in Temporal',
      ),
    },
    objects: {
      deleted: meter.createCounter('presence_objects_deleted', 'objects', 'Objects deleted by the cleanup'),
      checkWaitSeconds: meter.createHistogram(
        CHECK_WAIT_HISTOGRAM,
        'float',
        's',
        "Time from a sighting's receipt to the start of the status request that answers for it",
      ),
      rowDelaySeconds: meter.createHistogram(
        ROW_DELAY_HISTOGRAM,
        'float',
        's',
        "Time from a sighting's receipt to the commit of its row: how old last_seen is when written",
      ),
    },
    objectService: {
      requests: meter.createGauge(
        'presence_object_service_requests',
        'int',
        'requests',
        'Status requests this worker has in flight to the object service',
      ),
      waiting: meter.createGauge(
        'presence_object_service_waiting',
        'int',
        'requests',
        "Status requests waiting for one of this worker's connections to the object service (OBJECT_SERVICE_MAX_CONCURRENCY)",
      ),
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

// The Prometheus exporter's default buckets suit milliseconds.
const SECONDS_UP_TO_THE_TTL = [0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30];
export const WORKER_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [CHECK_WAIT_HISTOGRAM]: SECONDS_UP_TO_THE_TTL,
  [ROW_DELAY_HISTOGRAM]: SECONDS_UP_TO_THE_TTL,
};
