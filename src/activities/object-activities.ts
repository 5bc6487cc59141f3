import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MetricCounter } from '@temporalio/common';
import type { ObjectsRepository } from '../db/objects-repository';
import type { CheckOutcome, CheckReport, PresenceActivities } from '../workflows/contracts';
import { ObjectServiceError, type ObjectServiceClient, type ObjectStatus } from './object-service';

/**
 * What a worker's checks share with its dispatcher (SightingDispatcher implements it): the
 * newest sightings the worker holds, and which of them a check has served.
 */
export interface WorkerSightings {
  /** The newest receipt time of the object this worker's hand-outs registered. */
  newestSighting(objectId: number): number | undefined;
  checkStarted(objectId: number): void;
  /** A request that started after this receipt time answered, and its write committed. */
  checkServed(objectId: number, receivedAtMs: number, outcome: CheckOutcome): void;
  checkEnded(objectId: number): void;
}

export interface ObjectActivityDependencies {
  objectService: ObjectServiceClient;
  objects: ObjectsRepository;
  objectTtlSeconds: number;
  /** Counts the rows the cleanup deletes; made once with the worker's other metrics. */
  deletedCounter: MetricCounter;
  sightings: WorkerSightings;
}

/** The activities about objects: a sighting's check, and the cleanup's delete. */
export function createObjectActivities({
  objectService,
  objects,
  objectTtlSeconds,
  deletedCounter,
  sightings,
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

  /** One status request for the newest sighting the worker holds, then the write if online. */
  const checkOnce = async (objectId: number, sightingReceivedAtMs: number): Promise<CheckReport> => {
    const receivedAtMs = Math.max(sightingReceivedAtMs, sightings.newestSighting(objectId) ?? -Infinity);
    const report = (outcome: CheckOutcome): CheckReport => {
      sightings.checkServed(objectId, receivedAtMs, outcome);
      return { outcome, coversReceivedAtMs: receivedAtMs };
    };
    // A backlog (after an outage) must not cost the object service requests it cannot use.
    if (hasExpired(objectId, receivedAtMs)) return report('expired');
    const { online } = await fetchStatus(objectId);
    if (!online) return report('offline');
    if (hasExpired(objectId, receivedAtMs)) return report('expired');
    return report((await objects.recordSeen(objectId, new Date(receivedAtMs))) ? 'recorded' : 'already-newer');
  };

  return {
    /**
     * One check, in one local activity: the status, then the write if online. It answers for the
     * newest sighting of the object this worker holds, received before the request starts, and
     * reports that receipt time. While a newer sighting comes in during a request, and there is
     * time left within the activity's timeout, it asks again for that one: its workflow would
     * otherwise need a signal and another workflow task to start the same request. A retry after
     * a failed write asks the object service again, which the write's monotonic upsert makes safe.
     */
    async checkObject(objectId: number, sightingReceivedAtMs: number): Promise<CheckReport> {
      const { startToCloseTimeoutMs } = Context.current().info;
      // Room for one more request and its write before the check's own timeout.
      const lastRequestBy = Date.now() + startToCloseTimeoutMs - objectService.timeoutMs - 1_000;
      sightings.checkStarted(objectId);
      try {
        let report = await checkOnce(objectId, sightingReceivedAtMs);
        while (
          (sightings.newestSighting(objectId) ?? -Infinity) > report.coversReceivedAtMs &&
          Date.now() <= lastRequestBy
        ) {
          report = await checkOnce(objectId, report.coversReceivedAtMs);
        }
        return report;
      } finally {
        sightings.checkEnded(objectId);
      }
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
