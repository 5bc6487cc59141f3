import { setTimeout as sleep } from 'node:timers/promises';
import type { MetricCounter, MetricGauge } from '@temporalio/common';
import type { Logger } from '../logger';
import type { AcceptedCallback } from '../workflows';
import type { CallbackOutbox } from '../db/callback-outbox';
import { IdempotencyConflictError } from './recorder';

export interface OutboxRelayOptions {
  outbox: CallbackOutbox;
  /** Starts a callback's workflow under its recorded id. */
  start: (callback: AcceptedCallback) => Promise<void>;
  /** The worker's OBJECT_TTL_SECONDS: every id of an older callback would expire before its check. */
  ttlSeconds: number;
  metrics: { callbacks: MetricGauge; oldestAgeSeconds: MetricGauge; expired: MetricCounter; conflicts: MetricCounter };
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  pollIntervalMs?: number;
  batchSize?: number;
}

// The gauges count up to the outbox's limit: once a second is plenty for them, and little for the database.
const REPORT_INTERVAL_MS = 1_000;

// Every worker runs one: relays take different rows, so more workers drain faster and none is special.
export class OutboxRelay {
  private readonly stopped = new AbortController();
  private running?: Promise<void>;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { outbox, ttlSeconds, metrics, logger, pollIntervalMs = 1_000, batchSize = 100 } = this.options;
    let backoffMs = 0;
    let reportAtMs = 0;
    while (!this.stopped.signal.aborted) {
      let done = 0;
      try {
        if (Date.now() >= reportAtMs) {
          await this.report();
          reportAtMs = Date.now() + REPORT_INTERVAL_MS;
        }
        let dropped = 0;
        const startOrDrop = async (callback: AcceptedCallback) => {
          if (!(await this.startUnlessConflicting(callback))) dropped += 1;
        };
        const pass = await outbox.relay(batchSize, startOrDrop, ttlSeconds);
        done = pass.started + pass.expired;
        const started = pass.started - dropped;
        if (started > 0) logger.info({ started }, 'callbacks moved from the outbox to Temporal');
        if (pass.expired > 0) {
          metrics.expired.add(pass.expired);
          logger.warn(
            { callbacks: pass.expired, ttlSeconds },
            'callbacks older than the TTL dropped from the outbox: every id in them would have expired',
          );
        }
        if (pass.failure !== undefined) throw pass.failure;
        backoffMs = 0;
      } catch (error) {
        backoffMs = Math.min(10_000, Math.max(500, backoffMs * 2));
        logger.warn({ err: error, retryInMs: backoffMs }, 'outbox relay could not move callbacks; retrying');
      }
      // A full batch means more are waiting: go on at once.
      if (done < batchSize || backoffMs > 0) await this.pause(backoffMs || pollIntervalMs);
    }
  }

  /**
   * Resolves false for a callback whose Idempotency-Key names another callback in Temporal (taken by
   * the outbox while Temporal was away or slow): it can never start, so it is dropped, loudly.
   */
  private async startUnlessConflicting(callback: AcceptedCallback): Promise<boolean> {
    try {
      await this.options.start(callback);
      return true;
    } catch (error) {
      if (!(error instanceof IdempotencyConflictError)) throw error;
      this.options.metrics.conflicts.add(1);
      this.options.logger.error(
        { err: error, workflowId: callback.workflowId, ids: callback.objectIds.length },
        'outbox callback dropped: its Idempotency-Key names another callback in Temporal',
      );
      return false;
    }
  }

  private async report(): Promise<void> {
    const { callbacks, oldestReceivedAt } = await this.options.outbox.state();
    this.options.metrics.callbacks.set(callbacks);
    this.options.metrics.oldestAgeSeconds.set(oldestReceivedAt ? (Date.now() - oldestReceivedAt.getTime()) / 1000 : 0);
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopped.signal }).catch(() => undefined);
  }
}
