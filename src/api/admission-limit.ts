/**
 * How many ids one API process lets Temporal work on at once, adapted to what Temporal manages
 * within the callback deadline (additive increase, multiplicative decrease).
 *
 * Past what the server can record in time, a callback only ends in a late 503 after part of its
 * ids were written, and a sender that retries sends those again: under overload most of the
 * server's work went to callbacks that failed (docs/performance.md). Turning such a callback
 * away at once, before it starts anything, keeps the server on callbacks that can succeed.
 */
export class AdmissionLimit {
  private limit: number;
  private inFlight = 0;

  constructor(
    private readonly options: {
      /** Ids in flight at start-up; the limit adapts from there. */
      initial: number;
      /** The limit never shrinks below this. */
      min: number;
      /** Nor grows beyond this. */
      max: number;
      /** A callback recorded faster than this raises the limit. */
      fastMs: number;
    },
  ) {
    this.limit = options.initial;
  }

  /** Ids in flight allowed now. */
  get current(): number {
    return this.limit;
  }

  /**
   * Reserves room for `ids`, or refuses. A callback that arrives when nothing is in flight is
   * always let through, whatever its size, so a large callback is never refused for good.
   */
  tryAdmit(ids: number): boolean {
    if (this.inFlight > 0 && this.inFlight + ids > this.limit) return false;
    this.inFlight += ids;
    return true;
  }

  /** Frees the room of an admitted callback, recorded after `elapsedMs`. */
  recorded(ids: number, elapsedMs: number): void {
    this.inFlight -= ids;
    if (elapsedMs < this.options.fastMs) this.limit = Math.min(this.options.max, this.limit + Math.max(1, ids / 10));
  }

  /** Frees the room of an admitted callback that failed; `timedOut` when it ran out of time. */
  failed(ids: number, timedOut: boolean): void {
    this.inFlight -= ids;
    // A failure for any other reason (Temporal unreachable) says nothing about its capacity.
    if (timedOut) this.limit = Math.max(this.options.min, Math.floor(this.limit * 0.7));
  }
}
