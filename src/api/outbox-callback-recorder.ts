import type { Client } from '@temporalio/client';
import type { Database } from '../db/prisma';
import { withinDeadline } from '../deadline';
import { CallbackOutbox } from '../outbox/callback-outbox';
import type { AcceptedCallback } from '../temporal/callback-workflow-start';
import { RecorderUnavailableError, type CallbackRecorder } from './callback-recorder';
import { TemporalCallbackRecorder } from './temporal-callback-recorder';

/**
 * Records a callback in Temporal, or, when Temporal has not recorded it within `temporalWaitMs`,
 * also in the PostgreSQL outbox, from which a worker starts its workflow once Temporal answers
 * again. Whichever store records it first acknowledges the callback; both may end up with it,
 * and the workflow id chosen at receipt makes the second start a no-op. Only when neither takes
 * it within the deadline is it refused.
 */
export class OutboxFallbackRecorder implements CallbackRecorder {
  constructor(
    private readonly temporal: CallbackRecorder,
    private readonly outbox: CallbackOutbox,
    private readonly options: { temporalWaitMs: number; deadlineMs: number },
  ) {}

  async record(callback: AcceptedCallback): Promise<string> {
    const inTemporal = this.temporal.record(callback);
    // Settled or not, the race only decides whether the outbox is needed.
    const settledInTime = await withinDeadline(inTemporal, this.options.temporalWaitMs, 'Temporal').then(
      () => true,
      () => false,
    );
    if (settledInTime) return inTemporal;
    const inOutbox = withinDeadline(
      this.outbox.add(callback),
      this.options.deadlineMs - this.options.temporalWaitMs,
      'the outbox',
    ).then(() => 'outbox');
    try {
      return await Promise.any([inTemporal, inOutbox]);
    } catch (error) {
      const reasons = (error as AggregateError).errors.map((reason: Error) => reason.message).join('; ');
      throw new RecorderUnavailableError(`neither Temporal nor the outbox recorded the callback: ${reasons}`, {
        cause: error,
      });
    }
  }

  isReachable(): Promise<boolean> {
    return this.temporal.isReachable();
  }
}

/**
 * The API's recorder: Temporal first, the outbox when Temporal has not answered within 300 ms
 * (it records a callback in a few milliseconds when well), and an answer within 900 ms either way,
 * before the sender's 1 s timeout.
 */
export function temporalOrOutboxRecorder(client: Client, taskQueue: string, db: Database): CallbackRecorder {
  return new OutboxFallbackRecorder(new TemporalCallbackRecorder(client, taskQueue, 900), new CallbackOutbox(db), {
    temporalWaitMs: 300,
    deadlineMs: 900,
  });
}
