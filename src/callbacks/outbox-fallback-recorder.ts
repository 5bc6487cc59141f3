import type { Client } from '@temporalio/client';
import type { Database } from '../db/prisma';
import { withinDeadline } from '../deadline';
import { CallbackOutbox } from '../db/callback-outbox';
import type { AcceptedCallback } from '../workflows';
import { RecorderUnavailableError, type CallbackRecorder } from './recorder';
import { TemporalCallbackRecorder } from './temporal-recorder';

// Whichever store records the callback first acknowledges it. Both may end up with it: the workflow
// id chosen at receipt makes the second start a no-op.
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

// Temporal alone records a callback in a few milliseconds when well.
export const TEMPORAL_WAIT_MS = 300;
// Before the sender's 1 s timeout.
export const ANSWER_DEADLINE_MS = 900;

export function temporalOrOutboxRecorder(client: Client, taskQueue: string, db: Database): CallbackRecorder {
  return new OutboxFallbackRecorder(
    new TemporalCallbackRecorder(client, taskQueue, ANSWER_DEADLINE_MS),
    new CallbackOutbox(db),
    { temporalWaitMs: TEMPORAL_WAIT_MS, deadlineMs: ANSWER_DEADLINE_MS },
  );
}
