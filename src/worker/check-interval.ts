import { rowCheckedBySeconds, type Config } from '../config';
import { CLOCK_SKEW_MS, nextCheckAtMs, type CheckInterval } from '../workflows';

/** A signal sent before its workflow's next check is due would wait there on a timer, a billed action. */
export const CHECK_START_SLACK_MS = 1_000;

/**
 * MIN_CHECK_INTERVAL_SECONDS, and the row age at which a still-sighted object is checked before it
 * lapses: the receipt time, the workflow's timer and the cleanup each read another clock.
 */
export function checkInterval(config: Config): CheckInterval | undefined {
  if (config.minCheckIntervalSeconds === 0) return undefined;
  const maxRowAgeSeconds = rowCheckedBySeconds(config.objectTtlSeconds, config.cleanupIntervalSeconds);
  return {
    minMs: config.minCheckIntervalSeconds * 1000,
    maxRowAgeMs: Math.max(0, maxRowAgeSeconds * 1000 - CLOCK_SKEW_MS),
  };
}

/** How long after a signal with this receipt time its workflow checks again (its check starts just after the signal). */
export const signalRestMs =
  (interval: CheckInterval, clock: () => number = Date.now) =>
  (receivedAtMs: number): number => {
    const now = clock();
    return nextCheckAtMs(interval, now + CHECK_START_SLACK_MS, receivedAtMs) - now;
  };
