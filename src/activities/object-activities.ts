import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MetricCounter, MetricHistogram } from '@temporalio/common';
import type { ObjectsRepository } from '../db/objects-repository';
import { withinDeadline } from '../deadline';
import type { CheckOutcome, CheckReport, PresenceActivities } from '../workflows/contracts';
import { ObjectServiceError, type ObjectServiceClient, type ObjectStatus } from './object-service';

/**
 * What a worker's checks share with its dispatcher (SightingDispatcher implements it): the
 * newest sightings the worker holds, and which of them a check has served.
 */
export interface WorkerSightings {
  /** The newest receipt time of the object this worker's hand-outs registered. */
  newestSighting(objectId: number): number | undefined;
  /** `onSighting` hears of each sighting of the object registered until the returned function ends the check. */
  checkStarted(objectId: number, onSighting: () => void): () => void;
  /** A request that started after this receipt time answered, and its write committed. */
  checkServed(objectId: number, receivedAtMs: number, outcome: CheckOutcome): void;
}

/**
 * Status requests of one object a check keeps in flight at once: the one it started with, and
 * one for a sighting that came in meanwhile. A third sighting waits for the first to answer.
 */
const REQUESTS_PER_CHECK = 2;

/** How long a check keeps asking for newer sightings, when its activity's own timeout is longer. */
const CHECK_TIME_MS = 10_000;

/** A write that takes longer fails the attempt, which is retried: the database hangs. */
const WRITE_DEADLINE_MS = 5_000;

/** What the activities measure; made once with the worker's other metrics. */
export interface ObjectActivityMetrics {
  /** Rows the cleanup deletes. */
  deleted: MetricCounter;
  /** Seconds from a sighting's receipt to the start of the request that answers for it. */
  checkWaitSeconds: MetricHistogram;
  /** Seconds from a sighting's receipt to the commit of its row. */
  rowDelaySeconds: MetricHistogram;
}

export interface ObjectActivityDependencies {
  objectService: ObjectServiceClient;
  objects: ObjectsRepository;
  objectTtlSeconds: number;
  metrics: ObjectActivityMetrics;
  sightings: WorkerSightings;
}

/** The activities about objects: a sighting's check, and the cleanup's delete. */
export function createObjectActivities({
  objectService,
  objects,
  objectTtlSeconds,
  metrics,
  sightings,
}: ObjectActivityDependencies): Pick<PresenceActivities, 'checkObject' | 'deleteStaleObjects'> {
  // The cleanup would delete such a row at once; writing it would only break the promise that
  // no row is older than the TTL plus one cleanup interval.
  const hasExpired = (objectId: number, receivedAtMs: number): boolean => {
    if (receivedAtMs > Date.now() - objectTtlSeconds * 1000) return false;
    log.info('sighting expired before it was confirmed; not recorded', { objectId, receivedAtMs });
    return true;
  };

  const fetchStatus = async (objectId: number, cancellation: AbortSignal): Promise<ObjectStatus> => {
    try {
      return await objectService.fetchStatus(objectId, cancellation);
    } catch (error) {
      if (!(error instanceof ObjectServiceError)) throw error;
      throw ApplicationFailure.create({
        type: `ObjectService.${error.failure}`,
        message: error.message,
        nonRetryable: !error.retryable,
      });
    }
  };

  /**
   * One status request for the newest sighting the worker holds, then the write if online.
   * Undefined when a request started later has answered first (`isSuperseded`): its answer is
   * about a later moment, and covers every sighting this one would.
   */
  const checkOnce = async (
    objectId: number,
    receivedAtMs: number,
    cancellation: AbortSignal,
    isSuperseded: () => boolean,
  ): Promise<CheckReport | undefined> => {
    const report = (outcome: CheckOutcome): CheckReport => {
      sightings.checkServed(objectId, receivedAtMs, outcome);
      return { outcome, coversReceivedAtMs: receivedAtMs };
    };
    // A backlog (after an outage) must not cost the object service requests it cannot use.
    if (hasExpired(objectId, receivedAtMs)) return report('expired');
    metrics.checkWaitSeconds.record(secondsSince(receivedAtMs));
    const { online } = await fetchStatus(objectId, cancellation);
    if (isSuperseded()) return undefined;
    if (!online) return report('offline');
    if (hasExpired(objectId, receivedAtMs)) return report('expired');
    const recorded = await withinDeadline(
      objects.recordSeen(objectId, new Date(receivedAtMs)),
      WRITE_DEADLINE_MS,
      'the database',
    );
    if (recorded) metrics.rowDelaySeconds.record(secondsSince(receivedAtMs));
    return report(recorded ? 'recorded' : 'already-newer');
  };

  // A second request of a check takes a connection that no other check is waiting for: one per
  // running check is theirs, so a busy worker checks one request at a time, as its slots allow.
  let checksRunning = 0;
  let secondRequests = 0;
  const hasRoomForSecond = () => checksRunning + secondRequests < objectService.connections;

  return {
    /**
     * One check, in one local activity: the status, then the write if online. It answers for the
     * newest sighting of the object this worker holds, received before the request starts, and
     * reports that receipt time. When a newer sighting comes in during a request, and there is
     * time left within the activity's timeout, it asks for that one at once, beside the running
     * request (up to REQUESTS_PER_CHECK in flight, while the worker has connections to spare):
     * its workflow would otherwise need a signal and another workflow task to start the same
     * request, and waiting for the running request first would add up to one more answer to
     * that sighting's wait. Requests start in receipt order, so the newest answer wins: one that
     * comes after a later-started request's is not written, and its request is abandoned. A
     * failed request fails the check (and its retry asks again) unless a later-started one
     * answered; the write's monotonic upsert makes the repeated request safe.
     */
    async checkObject(objectId: number, sightingReceivedAtMs: number): Promise<CheckReport> {
      const { info, cancellationSignal } = Context.current();
      // Room for one more request and its write before the check's time is up.
      const checkTimeMs = Math.min(info.startToCloseTimeoutMs, CHECK_TIME_MS);
      const lastRequestBy = Date.now() + checkTimeMs - objectService.timeoutMs - 1_000;
      /** The requests in flight, by the receipt time each answers for. */
      const requests = new Map<AbortController, number>();
      checksRunning += 1;
      let ended = false;
      let asked = -Infinity;
      let answered: CheckReport | undefined;
      let failed: { receivedAtMs: number; error: unknown } | undefined;
      return new Promise<CheckReport>((resolve, reject) => {
        const askForNewer = (): void => {
          while (failed === undefined && requests.size < REQUESTS_PER_CHECK) {
            const newest = Math.max(sightingReceivedAtMs, sightings.newestSighting(objectId) ?? -Infinity);
            if (newest <= asked || (asked > -Infinity && Date.now() > lastRequestBy)) break;
            if (requests.size > 0 && !hasRoomForSecond()) break;
            ask((asked = newest));
          }
          if (requests.size > 0 || ended) return;
          ended = true;
          checkEnded();
          checksRunning -= 1;
          if (answered && (failed === undefined || answered.coversReceivedAtMs > failed.receivedAtMs))
            resolve(answered);
          else reject(failed?.error);
        };
        const ask = (receivedAtMs: number): void => {
          const request = new AbortController();
          const second = requests.size > 0;
          if (second) secondRequests += 1;
          requests.set(request, receivedAtMs);
          const isSuperseded = () => (answered?.coversReceivedAtMs ?? -Infinity) > receivedAtMs;
          checkOnce(objectId, receivedAtMs, AbortSignal.any([cancellationSignal, request.signal]), isSuperseded)
            .then(
              (report) => {
                if (!report || isSuperseded()) return;
                answered = report;
                // Older requests still running can only be superseded now.
                for (const [other, otherReceivedAtMs] of requests) if (otherReceivedAtMs < receivedAtMs) other.abort();
              },
              (error: unknown) => {
                if (request.signal.aborted && !cancellationSignal.aborted) return;
                if (!failed || receivedAtMs > failed.receivedAtMs) failed = { receivedAtMs, error };
              },
            )
            .finally(() => {
              if (second) secondRequests -= 1;
              requests.delete(request);
              askForNewer();
            });
        };
        const checkEnded = sightings.checkStarted(objectId, askForNewer);
        askForNewer();
      });
    },

    /** Uses the worker's TTL, like the checks. */
    async deleteStaleObjects(): Promise<number> {
      const deleted = await objects.deleteSeenBefore(new Date(Date.now() - objectTtlSeconds * 1000));
      metrics.deleted.add(deleted);
      if (deleted > 0) log.info('deleted stale objects', { deleted, ttlSeconds: objectTtlSeconds });
      return deleted;
    },
  };
}

const secondsSince = (epochMs: number): number => Math.max(0, Date.now() - epochMs) / 1000;
