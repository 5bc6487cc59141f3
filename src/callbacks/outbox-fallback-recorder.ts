import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/prisma';
import { withinDeadline } from '../deadline';
import { CallbackOutbox, NotAddedError } from '../db/callback-outbox';
import type { AcceptedCallback } from '../workflows';
import { OutcomeUnknownError, RecorderUnavailableError, recordIn, type CallbackRecorder } from './recorder';
import { TemporalCallbackRecorder } from './temporal-recorder';

export interface OutboxFallbackOptions {
  /** How long Temporal alone gets before the outbox is tried as well. */
  temporalWaitMs: number;
  /** From receipt, when an attempt ends: each store has then recorded the callback, refused it, or is unknown. */
  deadlineMs: number;
  /** How long past that a callback whose outcome is unknown is recorded again, before it gets no answer. */
  keepAskingMs: number;
  /** How many such callbacks are held at once; one more gets no answer at its deadline. */
  maxHeld: number;
}

// Whichever store records the callback first acknowledges it. Both may end up with it: the workflow
// id chosen at receipt makes the second start a no-op.
export class OutboxFallbackRecorder implements CallbackRecorder {
  private held = 0;

  constructor(
    private readonly temporal: TemporalCallbackRecorder,
    private readonly outbox: CallbackOutbox,
    private readonly options: OutboxFallbackOptions,
  ) {}

  async record(callback: AcceptedCallback): Promise<string> {
    try {
      return await this.attempt(callback, callback.receivedAtMs + this.options.deadlineMs);
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

  /**
   * Records the callback again until a store says it has it: both writes are idempotent under its
   * workflow id, so a repeat that succeeds means recorded, whatever the first attempt did. Their
   * refusals say nothing of the first attempt, which may still land: no 503 from here.
   */
  private async askAgain(callback: AcceptedCallback, unknown: OutcomeUnknownError): Promise<string> {
    const giveUpAtMs = Date.now() + this.options.keepAskingMs;
    let lastFailure = '';
    for (let pauseMs = 100; Date.now() < giveUpAtMs; pauseMs = Math.min(2 * pauseMs, 1_000)) {
      await sleep(Math.min(pauseMs, giveUpAtMs - Date.now()));
      const deadlineAtMs = Math.min(Date.now() + this.options.deadlineMs, giveUpAtMs);
      try {
        // Abandoning the attempt at the end is harmless: the callback then gets no answer at all.
        return await withinDeadline(this.attempt(callback, deadlineAtMs), giveUpAtMs - Date.now(), 'the stores');
      } catch (error) {
        lastFailure = (error as Error).message;
      }
    }
    throw new OutcomeUnknownError(
      `${unknown.message}; asked again for ${this.options.keepAskingMs} ms, last: ${lastFailure}`,
      { cause: unknown },
    );
  }

  /** One try of both stores, ending by `deadlineAtMs`; rejects with what their failures allow to say. */
  private async attempt(callback: AcceptedCallback, deadlineAtMs: number): Promise<string> {
    const inTemporal = this.temporal.record(callback, deadlineAtMs);
    // Settled or not, the race only decides whether the outbox is needed.
    const settledInTime = await withinDeadline(inTemporal, this.options.temporalWaitMs, 'Temporal').then(
      () => true,
      () => false,
    );
    if (settledInTime) return inTemporal;
    const inOutbox = recordIn(
      'outbox',
      this.outbox.add(callback, deadlineAtMs - Date.now()),
      (error) => error instanceof NotAddedError,
    );
    try {
      return await Promise.any([inTemporal, inOutbox]);
    } catch (error) {
      const failures = (error as AggregateError).errors as Error[];
      const message = `neither Temporal nor the outbox recorded the callback: ${failures.map((f) => f.message).join('; ')}`;
      // Each write has settled: refused for sure, or perhaps landing later, which rules out a 503.
      throw failures.every((failure) => failure instanceof RecorderUnavailableError)
        ? new RecorderUnavailableError(message, { cause: error })
        : new OutcomeUnknownError(message, { cause: error });
    }
  }
}

// Temporal alone records a callback in a few milliseconds when well.
export const TEMPORAL_WAIT_MS = 300;
// Before the sender's 1 s timeout.
export const ANSWER_DEADLINE_MS = 900;
// The sender has given up by then: asking on turns an unknown outcome into a recorded callback and a
// true log line, and ends well before Node cuts the idle connection (10 s) or a stop's grace runs out.
export const KEEP_ASKING_MS = 5_000;
// A bound on what is held in memory (100 bodies of at most 256 KiB) when a flood meets such an outage.
export const MAX_HELD_CALLBACKS = 100;

export function temporalOrOutboxRecorder(client: Client, taskQueue: string, db: Database): CallbackRecorder {
  return new OutboxFallbackRecorder(new TemporalCallbackRecorder(client, taskQueue), new CallbackOutbox(db), {
    temporalWaitMs: TEMPORAL_WAIT_MS,
    deadlineMs: ANSWER_DEADLINE_MS,
    keepAskingMs: KEEP_ASKING_MS,
    maxHeld: MAX_HELD_CALLBACKS,
  });
}
