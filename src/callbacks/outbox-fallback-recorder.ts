import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/prisma';
import { withinDeadline } from '../deadline';
import { CallbackOutbox, NotAddedError } from '../db/callback-outbox';
import type { AcceptedCallback } from '../workflows';
import {
  ensureSameCallback,
  IdempotencyConflictError,
  OutcomeUnknownError,
  RecorderUnavailableError,
  recordIn,
  type CallbackRecorder,
} from './recorder';
import { TemporalCallbackRecorder } from './temporal-recorder';

export interface OutboxFallbackOptions {
  /** How long Temporal alone gets before the outbox is tried as well. */
  temporalWaitMs: number;
  /** How long an attempt's writes run (the insert's share is the outbox pool's statement timeout). */
  deadlineMs: number;
  /** How long past that a callback whose outcome is unknown is recorded again, before it gets no answer. */
  keepAskingMs: number;
  /** How many such callbacks are held at once; one more gets no answer at its deadline. */
  maxHeld: number;
}

// Whichever store records the callback first acknowledges it; the workflow id chosen at receipt makes a second start a no-op.
export class OutboxFallbackRecorder implements CallbackRecorder {
  private held = 0;

  constructor(
    private readonly temporal: TemporalCallbackRecorder,
    private readonly outbox: CallbackOutbox,
    private readonly options: OutboxFallbackOptions,
  ) {}

  async record(callback: AcceptedCallback): Promise<string> {
    try {
      return await this.attempt(callback);
    } catch (error) {
      if (!(error instanceof OutcomeUnknownError) || this.held >= this.options.maxHeld) throw error;
      this.held += 1;
      try {
        return await this.askAgain(callback, error);
      } finally {
        this.held -= 1;
      }
    }
  }

  isReachable(): Promise<boolean> {
    return this.temporal.isReachable();
  }

  /** Both writes are idempotent, so a repeat that succeeds means recorded; its refusals say nothing of the first. */
  private async askAgain(callback: AcceptedCallback, unknown: OutcomeUnknownError): Promise<string> {
    const giveUpAtMs = Date.now() + this.options.keepAskingMs;
    let lastFailure = '';
    for (let pauseMs = 100; Date.now() < giveUpAtMs; pauseMs = Math.min(2 * pauseMs, 1_000)) {
      await sleep(Math.min(pauseMs, giveUpAtMs - Date.now()));
      try {
        // Abandoning the attempt at the end is harmless: the callback then gets no answer at all.
        return await withinDeadline(this.attempt(callback), giveUpAtMs - Date.now(), 'the stores');
      } catch (error) {
        lastFailure = (error as Error).message;
      }
    }
    throw new OutcomeUnknownError(
      `${unknown.message}; asked again for ${this.options.keepAskingMs} ms, last: ${lastFailure}`,
      { cause: unknown },
    );
  }

  /** One try of both stores, their writes over `deadlineMs` after it starts; rejects with what their failures allow to say. */
  private async attempt(callback: AcceptedCallback): Promise<string> {
    const inTemporal = this.temporal.record(callback, Date.now() + this.options.deadlineMs);
    // The race only decides whether the outbox is needed.
    const settledInTime = await withinDeadline(inTemporal, this.options.temporalWaitMs, 'Temporal').then(
      () => true,
      (error: unknown) => error instanceof IdempotencyConflictError,
    );
    if (settledInTime) return inTemporal;
    const inOutbox = recordIn(
      'outbox',
      this.outbox.add(callback).then((waiting) => ensureSameCallback(callback, waiting)),
      (error) => error instanceof NotAddedError,
    );
    try {
      return await Promise.any([inTemporal, inOutbox]);
    } catch (error) {
      const failures = (error as AggregateError).errors as Error[];
      const message = `neither Temporal nor the outbox recorded the callback: ${failures.map((f) => f.message).join('; ')}`;
      // Each write has settled: refused for sure, or perhaps landing later, which rules out a 503 or a 422.
      if (failures.some((f) => !(f instanceof RecorderUnavailableError || f instanceof IdempotencyConflictError))) {
        throw new OutcomeUnknownError(message, { cause: error });
      }
      throw (
        failures.find((f) => f instanceof IdempotencyConflictError) ??
        new RecorderUnavailableError(message, { cause: error })
      );
    }
  }
}

// Temporal alone records a callback in a few milliseconds when well.
export const TEMPORAL_WAIT_MS = 300;
// Before the sender's 1 s timeout.
export const ANSWER_DEADLINE_MS = 900;
// The API pool's statement timeout: what is left for an insert after Temporal's wait.
export const OUTBOX_STATEMENT_TIMEOUT_MS = ANSWER_DEADLINE_MS - TEMPORAL_WAIT_MS;
// Well before Node cuts the idle connection (10 s) or a stop's grace runs out.
export const KEEP_ASKING_MS = 5_000;
// At most 100 bodies of 256 KiB held when a flood meets such an outage.
export const MAX_HELD_CALLBACKS = 100;

/** `db` must be a pool with a statement timeout of OUTBOX_STATEMENT_TIMEOUT_MS. */
export function temporalOrOutboxRecorder(client: Client, taskQueue: string, db: Database): CallbackRecorder {
  return new OutboxFallbackRecorder(new TemporalCallbackRecorder(client, taskQueue), new CallbackOutbox(db), {
    temporalWaitMs: TEMPORAL_WAIT_MS,
    deadlineMs: ANSWER_DEADLINE_MS,
    keepAskingMs: KEEP_ASKING_MS,
    maxHeld: MAX_HELD_CALLBACKS,
  });
}
