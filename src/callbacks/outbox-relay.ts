import { setTimeout as sleep } from 'node:timers/promises';
import type { MetricGauge } from '@temporalio/common';
import type { Logger } from '../logger';
import type { AcceptedCallback } from '../workflows';
import type { CallbackOutbox } from '../db/callback-outbox';

export interface OutboxRelayOptions {
  outbox: CallbackOutbox;
  /** Starts a callback's workflow under its recorded id. */
  start: (callback: AcceptedCallback) => Promise<void>;
  metrics: { callbacks: MetricGauge; oldestAgeSeconds: MetricGauge };
  logger: Pick<Logger, 'info' | 'warn'>;
  pollIntervalMs?: number;
  batchSize?: number;
}

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
    const { outbox, start, logger, pollIntervalMs = 1_000, batchSize = 100 } = this.options;
    let backoffMs = 0;
    while (!this.stopped.signal.aborted) {
      let started = 0;
      try {
        const state = await outbox.state();
        this.report(state.callbacks, state.oldestReceivedAt);
        if (state.callbacks > 0) {
          const result = await outbox.relay(batchSize, start);
          started = result.started;
          if (started > 0)
            logger.info({ started, waiting: state.callbacks - started }, 'callbacks moved from the outbox to Temporal');
          if (result.failure !== undefined) throw result.failure;
        }
        backoffMs = 0;
      } catch (error) {
        backoffMs = Math.min(10_000, Math.max(500, backoffMs * 2));
        logger.warn({ err: error, retryInMs: backoffMs }, 'outbox relay could not move callbacks; retrying');
      }
      // A full batch means more are waiting: go on at once.
      if (started < batchSize || backoffMs > 0) await this.pause(backoffMs || pollIntervalMs);
    }
  }

  private report(callbacks: number, oldestReceivedAt: Date | undefined): void {
    this.options.metrics.callbacks.set(callbacks);
    this.options.metrics.oldestAgeSeconds.set(oldestReceivedAt ? (Date.now() - oldestReceivedAt.getTime()) / 1000 : 0);
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopped.signal }).catch(() => undefined);
  }
}
