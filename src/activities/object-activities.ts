import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MetricCounter, MetricHistogram } from '@temporalio/common';
import type { ObjectsRepository } from '../db/objects-repository';
import type { CheckOutcome, CheckResult, PresenceActivities } from '../workflows/contracts';
import { ObjectServiceError, type ObjectServiceClient } from './object-service';

export interface ObjectActivityMetrics {
  deleted: MetricCounter;
  checkWaitSeconds: MetricHistogram;
  rowDelaySeconds: MetricHistogram;
}

export interface ObjectActivityDependencies {
  objectService: ObjectServiceClient;
  objects: ObjectsRepository;
  objectTtlSeconds: number;
  metrics: ObjectActivityMetrics;
}

/** The activities about objects: a check, and the cleanup's delete. Stateless: all state is in Temporal or PostgreSQL. */
export function createObjectActivities({
  objectService,
  objects,
  objectTtlSeconds,
  metrics,
}: ObjectActivityDependencies): Pick<PresenceActivities, 'checkObject' | 'recordSighting' | 'deleteStaleObjects'> {
  const hasExpired = (receivedAtMs: number): boolean => receivedAtMs <= Date.now() - objectTtlSeconds * 1000;

  const recordSighting = async (objectId: number, receivedAtMs: number): Promise<CheckOutcome> => {
    // A write retried through a database outage stops once it could no longer land.
    if (hasExpired(receivedAtMs)) return 'expired';
    if (await objects.recordSeen(objectId, new Date(receivedAtMs), objectTtlSeconds)) {
      metrics.rowDelaySeconds.record(secondsSince(receivedAtMs));
      return 'recorded';
    }
    return hasExpired(receivedAtMs) ? 'expired' : 'already-newer';
  };

  return {
    async checkObject(objectId: number, receivedAtMs: number): Promise<CheckResult> {
      // After an outage, a backlog of old sightings must not cost the object service requests.
      if (hasExpired(receivedAtMs)) {
        log.info('sighting expired before its check; not recorded', { objectId, receivedAtMs });
        return { outcome: 'expired' };
      }
      metrics.checkWaitSeconds.record(secondsSince(receivedAtMs));
      const askedAtMs = Date.now();
      let online: boolean;
      try {
        ({ online } = await objectService.fetchStatus(objectId, Context.current().cancellationSignal));
      } catch (error) {
        if (!(error instanceof ObjectServiceError)) throw error;
        throw ApplicationFailure.create({
          type: `ObjectService.${error.failure}`,
          message: error.message,
          nonRetryable: !error.retryable,
        });
      }
      return { outcome: online ? await recordSighting(objectId, receivedAtMs) : 'offline', askedAtMs };
    },

    recordSighting,

    async deleteStaleObjects(): Promise<number> {
      const deleted = await objects.deleteExpired(objectTtlSeconds);
      metrics.deleted.add(deleted);
      if (deleted > 0) log.info('deleted stale objects', { deleted, ttlSeconds: objectTtlSeconds });
      return deleted;
    },
  };
}

const secondsSince = (epochMs: number): number => Math.max(0, Date.now() - epochMs) / 1000;
