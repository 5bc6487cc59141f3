import { Runtime } from '@temporalio/worker';

/**
 * The worker's own metrics, made once per process on the Runtime's meter, so they are exported
 * beside the Temporal SDK's on WORKER_METRICS_PORT (counters get `_total` there).
 */
export function createWorkerMetrics() {
  const meter = Runtime.instance().metricMeter;
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
        'Callbacks waiting in the outbox for Temporal',
      ),
      oldestAgeSeconds: meter.createGauge(
        'presence_outbox_oldest_age_seconds',
        'float',
        's',
        'Age of the oldest callback waiting in the outbox',
      ),
    },
    objectsDeleted: meter.createCounter('presence_objects_deleted', 'objects', 'Objects deleted by the cleanup'),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
