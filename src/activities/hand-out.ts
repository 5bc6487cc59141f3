import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MetricCounter } from '@temporalio/common';
import type { HandOutResult } from '../workflows/contracts';
import type { SightingDispatcher } from './sighting-dispatcher';

export interface HandOutDependencies {
  /** Shared by every hand-out in the worker, which is what lets it coalesce across callbacks. */
  dispatcher: SightingDispatcher;
  metrics: { expired: MetricCounter };
}

/** Well within the 20 s heartbeat timeout, so that only a dead worker times a waiting hand-out out. */
const HEARTBEAT_INTERVAL_MS = 5_000;

/** Ids finish out of order; a retry resumes after the leading ids that are all done. */
class Checkpoint {
  private readonly done = new Set<number>();

  constructor(public leading: number) {}

  complete(index: number): void {
    this.done.add(index);
    while (this.done.delete(this.leading)) this.leading += 1;
  }
}

export function createHandOut({ dispatcher, metrics }: HandOutDependencies) {
  return async function handOutSightings(objectIds: number[], receivedAtMs: number): Promise<HandOutResult> {
    const context = Context.current();
    const resumeAt = (context.info.heartbeatDetails as number | undefined) ?? 0;
    const checkpoint = new Checkpoint(resumeAt);
    const heartbeat = () => context.heartbeat(checkpoint.leading);
    const heartbeats = setInterval(heartbeat, HEARTBEAT_INTERVAL_MS);
    let expired: number;
    try {
      expired = await dispatcher.handOut(objectIds.slice(resumeAt), receivedAtMs, {
        onDone: (index) => {
          checkpoint.complete(resumeAt + index);
          heartbeat();
        },
        signal: context.cancellationSignal,
      });
    } catch (error) {
      if (!context.cancellationSignal.aborted) throw error;
      // A worker shutting down is no reason to give up: the next attempt resumes at the checkpoint.
      if (context.cancellationDetails?.workerShutdown) {
        throw ApplicationFailure.retryable(
          `hand-out stopped by a worker shutdown after ${checkpoint.leading} ids`,
          'HandOutInterrupted',
        );
      }
      return context.cancelled;
    } finally {
      clearInterval(heartbeats);
    }
    if (expired > 0) {
      metrics.expired.add(expired);
      log.warn('callback older than the TTL; its remaining sightings are not handed out', { expired, receivedAtMs });
    }
    return { handedOut: objectIds.length - expired, expired };
  };
}
