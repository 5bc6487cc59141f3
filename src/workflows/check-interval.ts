/** MIN_CHECK_INTERVAL_SECONDS, as each object workflow gets it with every sighting from the worker that signals it. */
export interface CheckInterval {
  /** Checks start at least this far apart... */
  minMs: number;
  /** ...unless a sighting waits and the row has grown this old: it is checked then, before it lapses. */
  maxRowAgeMs: number;
}

/** When an object's next check may start; the worker's hand-out rests an id until then too. */
export const nextCheckAtMs = (
  { minMs, maxRowAgeMs }: CheckInterval,
  lastCheckAtMs = -Infinity,
  rowSeenAtMs = Infinity,
): number => Math.min(lastCheckAtMs + minMs, rowSeenAtMs + maxRowAgeMs);

export const sameInterval = (a?: CheckInterval, b?: CheckInterval): boolean =>
  a?.minMs === b?.minMs && a?.maxRowAgeMs === b?.maxRowAgeMs;
