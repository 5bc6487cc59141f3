export interface AdaptiveConcurrencyOptions {
  initial: number;
  min: number;
  max: number;
  /** A call counts as fast while it takes at most this many times the quickest recent call. */
  tolerance: number;
  /** Below this, a call is fast whatever the quickest one took: microseconds are no signal. */
  floorMs: number;
}

/** How long the quickest call is remembered: long enough to span a burst, short enough to follow a move. */
const BASELINE_WINDOW_MS = 10_000;

/**
 * A concurrency limit that adapts to how fast the called service answers: it grows by about one
 * for every limit's worth of fast answers and shrinks by a fifth, at most once per recent
 * quickest call, when answers get slow or fail (additive increase, multiplicative decrease).
 * "Fast" is relative to the quickest recent answer, so what the limit reacts to is time spent
 * queueing in the service, not the network's round trip: the same setting fits a server on
 * loopback and one across a continent.
 *
 * Calls beyond what a service can take only queue inside it; on a shared Temporal server that
 * queue also delays the API's own workflow starts, which have to be acknowledged within a second.
 */
export class AdaptiveConcurrency {
  private limit: number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private lastDecreaseAt = 0;
  /** The quickest call of the current and of the previous baseline window. */
  private quickest = { current: Infinity, previous: Infinity, windowStartedAt: 0 };

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    this.limit = options.initial;
  }

  /** Calls allowed at once right now. */
  get current(): number {
    return Math.floor(this.limit);
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.acquire();
    const startedAt = performance.now();
    let elapsedMs: number | undefined;
    try {
      const result = await call();
      elapsedMs = performance.now() - startedAt;
      return result;
    } finally {
      this.adapt(elapsedMs);
      this.inFlight -= 1;
      this.waiting.shift()?.();
    }
  }

  private async acquire(): Promise<void> {
    while (this.inFlight >= this.current) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
  }

  /** The time below which a call counts as fast. */
  private threshold(now: number, elapsedMs: number): number {
    const quickest = this.quickest;
    if (now - quickest.windowStartedAt > BASELINE_WINDOW_MS) {
      quickest.previous = quickest.current;
      quickest.current = Infinity;
      quickest.windowStartedAt = now;
    }
    quickest.current = Math.min(quickest.current, elapsedMs);
    return Math.max(this.options.floorMs, Math.min(quickest.current, quickest.previous) * this.options.tolerance);
  }

  /** `elapsedMs` of a call that succeeded; undefined for one that failed. */
  private adapt(elapsedMs: number | undefined): void {
    const now = performance.now();
    const threshold = elapsedMs === undefined ? this.options.floorMs : this.threshold(now, elapsedMs);
    if (elapsedMs !== undefined && elapsedMs <= threshold) {
      const grown = Math.min(this.options.max, this.limit + 1 / this.limit);
      // A raised limit lets one more call in straight away.
      if (Math.floor(grown) > this.current) this.waiting.shift()?.();
      this.limit = grown;
      return;
    }
    if (now - this.lastDecreaseAt < threshold) return;
    this.lastDecreaseAt = now;
    this.limit = Math.max(this.options.min, this.limit * 0.8);
  }
}
