import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { MetricCounter, MetricGauge, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { objectPresenceWorkflow, objectWorkflowId, sightedSignal } from '../workflows';
import type { AdaptiveConcurrency } from './adaptive-concurrency';

export interface HandOutResult {
  /** Ids signalled into their object's workflow, by this attempt and the ones before it. */
  handedOut: number;
  /** Ids not handed out because the callback had grown older than the TTL first. */
  expired: number;
}

export interface HandOutDependencies {
  client: Client;
  taskQueue: string;
  objectTtlSeconds: number;
  /** Shared by every hand-out in the worker: it is the Temporal server's capacity that it tracks. */
  concurrency: AdaptiveConcurrency;
  metrics: { backlog: MetricGauge; expired: MetricCounter };
  /**
   * Set on each object workflow it starts, so users find an object's runs by its id. Unset when
   * the namespace lacks it: a start with an unregistered attribute fails, and would fail forever.
   */
  objectIdSearchAttribute?: SearchAttributeKey<typeof SearchAttributeType.INT>;
}

/**
 * Tracks which ids are handed out. Signals finish out of order, so the checkpoint is the
 * number of leading ids that are all done: a retry resumes there and repeats at most the ids
 * that were in flight, which the object workflows take as one more sighting of the same time.
 */
class Checkpoint {
  private readonly done = new Set<number>();

  constructor(public leading: number) {}

  complete(index: number): void {
    this.done.add(index);
    while (this.done.delete(this.leading)) this.leading += 1;
  }
}

export function createHandOut({
  client,
  taskQueue,
  objectTtlSeconds,
  concurrency,
  metrics,
  objectIdSearchAttribute,
}: HandOutDependencies) {
  let backlog = 0;
  const changeBacklog = (by: number) => {
    backlog += by;
    metrics.backlog.set(backlog);
  };
  const signal = (objectId: number, receivedAtMs: number) =>
    client.workflow.signalWithStart(objectPresenceWorkflow, {
      workflowId: objectWorkflowId(objectId),
      taskQueue,
      args: [{ objectId }],
      staticSummary: `Object ${objectId}`,
      // Only a start applies it; continue-as-new carries it into the object's next runs.
      typedSearchAttributes: objectIdSearchAttribute && [{ key: objectIdSearchAttribute, value: objectId }],
      signal: sightedSignal,
      signalArgs: [receivedAtMs],
    });

  /** Signals each id of a callback into its object's workflow, starting the workflow if needed. */
  return async function handOutSightings(objectIds: number[], receivedAtMs: number): Promise<HandOutResult> {
    const context = Context.current();
    const checkpoint = new Checkpoint((context.info.heartbeatDetails as number | undefined) ?? 0);
    const expiresAtMs = receivedAtMs + objectTtlSeconds * 1000;
    let failure: unknown;
    let next = checkpoint.leading;
    let waiting = objectIds.length - next;
    changeBacklog(waiting);
    const inFlight = new Set<Promise<void>>();
    try {
      // Stops at the first failure or cancellation; the next attempt resumes at the checkpoint.
      while (next < objectIds.length && failure === undefined && context.cancellationSignal.aborted === false) {
        // The object's check would not write a sighting this old, and the cleanup would delete it.
        if (Date.now() >= expiresAtMs) break;
        const index = next;
        next += 1;
        const call = concurrency
          .run(() => signal(objectIds[index] as number, receivedAtMs))
          .then(
            () => {
              checkpoint.complete(index);
              waiting -= 1;
              changeBacklog(-1);
              context.heartbeat(checkpoint.leading);
            },
            (error: unknown) => {
              failure ??= error;
            },
          )
          .finally(() => inFlight.delete(call));
        inFlight.add(call);
        // Only as many calls wait as run: the rest of a large callback stays in the input.
        if (inFlight.size > concurrency.current) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } finally {
      changeBacklog(-waiting);
    }
    if (failure !== undefined) throw failure;
    if (context.cancellationSignal.aborted) {
      // A worker shutting down is no reason to give up: the next attempt, on another worker,
      // resumes at the checkpoint. Only a cancellation the workflow asked for ends the hand-out.
      if (context.cancellationDetails?.workerShutdown) {
        throw ApplicationFailure.retryable(
          `hand-out stopped by a worker shutdown after ${checkpoint.leading} ids`,
          'HandOutInterrupted',
        );
      }
      await context.cancelled;
    }
    const expired = objectIds.length - checkpoint.leading;
    if (expired > 0) {
      metrics.expired.add(expired);
      log.warn('callback older than the TTL; its remaining sightings are not handed out', { expired, receivedAtMs });
    }
    return { handedOut: checkpoint.leading, expired };
  };
}
