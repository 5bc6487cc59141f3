import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MetricCounter } from '@temporalio/common';
import type { ObjectsRepository } from '../db/objects-repository';
import type { CheckOutcome, CheckReport, PresenceActivities } from '../workflows/contracts';
import { ObjectServiceError, type ObjectServiceClient, type ObjectStatus } from './object-service';

export interface ObjectActivityDependencies {
  objectService: ObjectServiceClient;
  objects: ObjectsRepository;
  objectTtlSeconds: number;
  /** Counts the rows the cleanup deletes; made once with the worker's other metrics. */
  deletedCounter: MetricCounter;
  /** The newest receipt time of the object this worker's hand-outs registered (SightingDispatcher.newestSighting). */
  newestSighting: (objectId: number) => number | undefined;
}

/** The activities about objects: a sighting's check, and the cleanup's delete. */
export function createObjectActivities({
  objectService,
  objects,
  objectTtlSeconds,
  deletedCounter,
  newestSighting,
}: ObjectActivityDependencies): Pick<PresenceActivities, 'checkObject' | 'deleteStaleObjects'> {
  // The cleanup would delete such a row at once; writing it would only break the promise that
  // no row is older than the TTL plus one cleanup interval.
  const hasExpired = (objectId: number, receivedAtMs: number): boolean => {
    if (receivedAtMs > Date.now() - objectTtlSeconds * 1000) return false;
    log.info('sighting expired before it was confirmed; not recorded', { objectId, receivedAtMs });
    return true;
  };

  const fetchStatus = async (objectId: number): Promise<ObjectStatus> => {
    try {
      return await objectService.fetchStatus(objectId, Context.current().cancellationSignal);
    } catch (error) {
      if (!(error instanceof ObjectServiceError)) throw error;
      throw ApplicationFailure.create({
        type: `ObjectService.${error.failure}`,
        message: error.message,
        nonRetryable: !error.retryable,
      });
    }
  };

  return {
    /**
     * One check, in one local activity: the status, then the write if online. It answers for the
     * newest sighting of the object this worker has heard of, received before the request starts,
     * and reports that receipt time. A retry after a failed write asks the object service again,
     * which the write's monotonic upsert makes safe.
     */
    async checkObject(objectId: number, sightingReceivedAtMs: number): Promise<CheckReport> {
      const receivedAtMs = Math.max(sightingReceivedAtMs, newestSighting(objectId) ?? -Infinity);
      const report = (outcome: CheckOutcome): CheckReport => ({ outcome, coversReceivedAtMs: receivedAtMs });
      // A backlog (after an outage) must not cost the object service requests it cannot use.
      if (hasExpired(objectId, receivedAtMs)) return report('expired');
      const { online } = await fetchStatus(objectId);
      if (!online) return report('offline');
      if (hasExpired(objectId, receivedAtMs)) return report('expired');
      return report((await objects.recordSeen(objectId, new Date(receivedAtMs))) ? 'recorded' : 'already-newer');
    },

    /** Uses the worker's TTL, like the checks. */
    async deleteStaleObjects(): Promise<number> {
      const deleted = await objects.deleteSeenBefore(new Date(Date.now() - objectTtlSeconds * 1000));
      deletedCounter.add(deleted);
      if (deleted > 0) log.info('deleted stale objects', { deleted, ttlSeconds: objectTtlSeconds });
      return deleted;
    },
  };
}
