export interface AdaptiveConcurrencyOptions {
  initial: number;
  min: number;
  max: number;
  /** Calls answered within this are a sign of spare capacity; slower ones, or failures, of none. */
  targetMs: number;
}

/**
 * A concurrency limit that adapts to how fast the called service answers: it grows by about one
 * for every limit's worth of fast answers and shrinks by a fifth, at most once per target time,
 * when answers get slow or fail (additive increase, multiplicative decrease).
 *
 * Calls beyond what a service can take only queue inside it; on a shared Temporal server that
 * queue also delays the API's own workflow starts, which have to be acknowledged within a second.
 */
export class AdaptiveConcurrency {
  private limit: number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private lastDecreaseAt = 0;

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
    let fast = false;
    try {
      const result = await call();
      fast = performance.now() - startedAt <= this.options.targetMs;
      return result;
    } finally {
      this.adapt(fast);
      this.inFlight -= 1;
      this.waiting.shift()?.();
    }
  }

  private async acquire(): Promise<void> {
    while (this.inFlight >= this.current) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
  }

  private adapt(fast: boolean): void {
    if (fast) {
      const grown = Math.min(this.options.max, this.limit + 1 / this.limit);
      // A raised limit lets one more call in straight away.
      if (Math.floor(grown) > this.current) this.waiting.shift()?.();
      this.limit = grown;
      return;
    }
    const now = performance.now();
    if (now - this.lastDecreaseAt < this.options.targetMs) return;
    this.lastDecreaseAt = now;
    this.limit = Math.max(this.options.min, this.limit * 0.8);
  }
}
