import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MetricCounter } from '@temporalio/common';
import type { HandOutResult } from '../workflows/contracts';
import type { HandOutOutcome, SightingDispatcher } from './sighting-dispatcher';

export interface HandOutDependencies {
  /** Shared by every hand-out in the worker, which is what lets it coalesce across callbacks. */
  dispatcher: SightingDispatcher;
  metrics: { expired: MetricCounter };
}

/**
 * While a hand-out waits behind others, it still heartbeats, well within the 20 s heartbeat
 * timeout, so that only a dead worker times it out. The SDK sends at most one heartbeat per
 * 80% of the timeout to the server whatever the rate here.
 */
const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Tracks which ids are handed out. They are covered out of order, so the checkpoint is the
 * number of leading ids that are all done: a retry resumes there and registers again at most
 * the ids after it, which the object workflows take as one more sighting of the same time.
 */
class Checkpoint {
  private readonly done = new Set<number>();

  constructor(public leading: number) {}

  complete(index: number): void {
    this.done.add(index);
    while (this.done.delete(this.leading)) this.leading += 1;
  }
}

export function createHandOut({ dispatcher, metrics }: HandOutDependencies) {
  /**
   * Hands each id of a callback to its object's workflow through the worker's dispatcher, which
   * signals only the newest sighting of each id (see SightingDispatcher for why that loses none).
   */
  return async function handOutSightings(objectIds: number[], receivedAtMs: number): Promise<HandOutResult> {
    const context = Context.current();
    const resumeAt = (context.info.heartbeatDetails as number | undefined) ?? 0;
    const checkpoint = new Checkpoint(resumeAt);
    const heartbeat = () => context.heartbeat(checkpoint.leading);
    const heartbeats = setInterval(heartbeat, HEARTBEAT_INTERVAL_MS);
    let outcome: HandOutOutcome | undefined;
    try {
      outcome = await dispatcher.handOut(objectIds.slice(resumeAt), receivedAtMs, {
        onCovered: (index) => {
          checkpoint.complete(resumeAt + index);
          heartbeat();
        },
        signal: context.cancellationSignal,
      });
    } catch (error) {
      // A failed delivery fails the attempt; the next one resumes at the checkpoint.
      if (!context.cancellationSignal.aborted) throw error;
    } finally {
      clearInterval(heartbeats);
    }
    if (outcome === undefined) {
      // A worker shutting down is no reason to give up: the next attempt, on another worker,
      // resumes at the checkpoint. Only a cancellation the workflow asked for ends the hand-out.
      if (context.cancellationDetails?.workerShutdown) {
        throw ApplicationFailure.retryable(
          `hand-out stopped by a worker shutdown after ${checkpoint.leading} ids`,
          'HandOutInterrupted',
        );
      }
      return context.cancelled;
    }
    if (outcome.expired > 0) {
      metrics.expired.add(outcome.expired);
      log.warn('callback older than the TTL; its remaining sightings are not handed out', {
        expired: outcome.expired,
        receivedAtMs,
      });
    }
    return { handedOut: resumeAt + outcome.covered, expired: outcome.expired };
  };
}
