export interface SightingDispatcherOptions {
  /** Signal-with-starts the object's workflow with this receipt time; resolves once Temporal has it. */
  deliver: (objectId: number, receivedAtMs: number) => Promise<unknown>;
  /** In flight at once: signals into workflows that run (ids delivered within the TTL), and signal-with-starts for the rest. */
  concurrency: { signals: number; starts: number };
  /** A sighting this old would not be written by its check, so it is not delivered. */
  ttlMs: number;
  /** Told of sightings that needed no signal of their own. */
  onCoalesced?: (count: number) => void;
  /** How long after delivering this receipt time the id's next signal waits; unset, it waits only its turn. */
  restMs?: (receivedAtMs: number) => number;
  /** Sightings in the lines at once (default MAX_WAITING): a hand-out that would pass it waits whole, in order. */
  maxWaiting?: number;
}

/** Far above the fleet load's backlog (a few thousand ids), and a bounded heap under a flood. */
export const MAX_WAITING = 100_000;

export interface HandOutWatch {
  /** Called once per id, with its index in the hand-out, when it is delivered, covered or expired. */
  onDone: (index: number) => void;
  /** Ends the hand-out, which rejects with the reason. */
  signal: AbortSignal;
}

export type HandOutBacklog = ReturnType<SightingDispatcher['backlog']>;

/** One hand-out: a callback's ids, all with the callback's receipt time. */
class HandOut {
  expired = 0;
  settled = false;

  constructor(
    readonly receivedAtMs: number,
    private remaining: number,
    private readonly onDone: (index: number) => void,
    private readonly settle: (expired: number, failure?: { error: unknown }) => void,
  ) {}

  done(index: number, expired: boolean): void {
    if (this.settled) return;
    if (expired) this.expired += 1;
    this.onDone(index);
    if ((this.remaining -= 1) === 0) this.end();
  }

  end(failure?: { error: unknown }): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(this.expired, failure);
  }
}

type Waiter = { handOut: HandOut; index: number };

/**
 * Coalesces every hand-out on this worker: an id waits in line once and its turn signals only its
 * newest sighting, so under overload each id costs one signal per round of the fleet and only
 * freshness lags. Memory only: a retried hand-out registers its ids again, never losing one.
 */
export class SightingDispatcher {
  /** Ids waiting for their turn, first queued first, with the hand-outs that wait for each... */
  private readonly queued = new Map<number, Waiter[]>();
  /** ...and the same for ids whose signal likely starts their workflow. */
  private readonly queuedStarts = new Map<number, Waiter[]>();
  /** Ids delivered less than `restMs` ago, with the hand-outs that wait for their next turn. */
  private readonly resting = new Map<number, Waiter[]>();
  private readonly inFlight = new Set<number>();
  private startsInFlight = 0;
  /** Per id, the newest receipt time delivered; kept a TTL, after which it covers only expired sightings. */
  private readonly delivered = new Map<number, number>();
  private readonly handOuts = new Set<HandOut>();
  /** Sightings in the lines or in flight, counted against `maxWaiting`... */
  private waiting = 0;
  /** ...and the hand-outs waiting for room, first come first. */
  private readonly admissions: Array<{ handOut: HandOut; objectIds: readonly number[] }> = [];
  private lastForgetAtMs = 0;

  constructor(private readonly options: SightingDispatcherOptions) {}

  /** Resolves with how many ids expired before their turn, once every id is delivered, covered or expired. */
  handOut(objectIds: readonly number[], receivedAtMs: number, watch: HandOutWatch): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (watch.signal.aborted) return reject(watch.signal.reason);
      if (objectIds.length === 0) return resolve(0);
      const onAbort = () => handOut.end({ error: watch.signal.reason });
      const handOut = new HandOut(receivedAtMs, objectIds.length, watch.onDone, (expired, failure) => {
        this.handOuts.delete(handOut);
        watch.signal.removeEventListener('abort', onAbort);
        if (failure) reject(failure.error);
        else resolve(expired);
      });
      this.handOuts.add(handOut);
      watch.signal.addEventListener('abort', onAbort, { once: true });
      this.admissions.push({ handOut, objectIds });
      this.admit();
      this.pump();
    });
  }

  /** Lines up the waiting hand-outs' ids while there is room; one larger than the room goes alone. */
  private admit(): void {
    for (;;) {
      const next = this.admissions[0];
      if (!next) return;
      if (next.handOut.settled) {
        this.admissions.shift();
        continue;
      }
      if (this.waiting > 0 && this.waiting + next.objectIds.length > (this.options.maxWaiting ?? MAX_WAITING)) return;
      this.admissions.shift();
      this.waiting += next.objectIds.length;
      next.objectIds.forEach((objectId, index) => {
        const waiter = { handOut: next.handOut, index };
        const waiters = this.resting.get(objectId) ?? this.queued.get(objectId) ?? this.queuedStarts.get(objectId);
        // An id delivered within the TTL, or in flight, has a workflow running; the others likely not.
        const known = this.delivered.has(objectId) || this.inFlight.has(objectId);
        if (waiters) waiters.push(waiter);
        else (known ? this.queued : this.queuedStarts).set(objectId, [waiter]);
      });
    }
  }

  /** Room for `count` sightings taken out of the lines. */
  private release(count: number): void {
    this.waiting -= count;
    this.admit();
  }

  /** Distinct ids waiting for their signal, and the age in seconds of the oldest sighting not yet handed out. */
  backlog(now = Date.now()): { ids: number; lagSeconds: number } {
    let oldest = Infinity;
    for (const { receivedAtMs } of this.handOuts) oldest = Math.min(oldest, receivedAtMs);
    let ids = this.queued.size + this.queuedStarts.size;
    for (const { objectIds } of this.admissions) ids += objectIds.length;
    for (const objectId of this.inFlight) if (!this.queued.has(objectId)) ids += 1;
    for (const waiters of this.resting.values()) if (waiters.length > 0) ids += 1;
    return { ids, lagSeconds: oldest === Infinity ? 0 : Math.max(0, now - oldest) / 1000 };
  }

  private pump(): void {
    const now = Date.now();
    this.forgetOldDeliveries(now);
    for (const start of [false, true]) {
      const line = start ? this.queuedStarts : this.queued;
      // Ids in flight stay queued for their next turn: at most the ones in flight are skipped.
      for (const [objectId, waiters] of line) {
        if (!this.hasRoom(start)) break;
        if (this.inFlight.has(objectId)) continue;
        line.delete(objectId);
        this.take(objectId, waiters, now, start);
      }
    }
  }

  private hasRoom(start: boolean): boolean {
    const { signals, starts } = this.options.concurrency;
    return start ? this.startsInFlight < starts : this.inFlight.size - this.startsInFlight < signals;
  }

  /** Settles the waiters a delivered or an expired sighting answers for; signals the newest of the rest. */
  private take(objectId: number, waiters: Waiter[], now: number, start: boolean): void {
    const delivered = this.delivered.get(objectId) ?? -Infinity;
    const toSend: Waiter[] = [];
    let newest = -Infinity;
    for (const waiter of waiters) {
      const { handOut, index } = waiter;
      if (handOut.settled) continue;
      if (handOut.receivedAtMs <= delivered) {
        this.options.onCoalesced?.(1);
        handOut.done(index, false);
      } else if (handOut.receivedAtMs + this.options.ttlMs <= now) {
        handOut.done(index, true);
      } else {
        toSend.push(waiter);
        newest = Math.max(newest, handOut.receivedAtMs);
      }
    }
    if (toSend.length > 0) this.send(objectId, toSend, newest, start);
    // What is answered leaves memory now; what is sent, once its delivery settles.
    this.release(waiters.length - toSend.length);
  }

  private send(objectId: number, toSend: Waiter[], newest: number, start: boolean): void {
    this.inFlight.add(objectId);
    if (start) this.startsInFlight += 1;
    this.options
      .deliver(objectId, newest)
      .then(
        () => {
          this.delivered.set(objectId, newest);
          if (this.options.restMs) this.rest(objectId, this.options.restMs(newest));
          if (toSend.length > 1) this.options.onCoalesced?.(toSend.length - 1);
          for (const { handOut, index } of toSend) handOut.done(index, false);
        },
        // The hand-outs' activities fail, and their retries register the ids again.
        (error: unknown) => {
          for (const { handOut } of toSend) handOut.end({ error });
        },
      )
      .finally(() => {
        this.inFlight.delete(objectId);
        if (start) this.startsInFlight -= 1;
        this.release(toSend.length);
        this.pump();
      });
  }

  /** What comes in for the id, and what came while its signal was in flight, waits until the rest is over. */
  private rest(objectId: number, ms: number): void {
    this.resting.set(objectId, this.queued.get(objectId) ?? []);
    this.queued.delete(objectId);
    setTimeout(() => {
      const waiters = this.resting.get(objectId) ?? [];
      this.resting.delete(objectId);
      if (waiters.length > 0) this.queued.set(objectId, waiters);
      this.pump();
    }, ms).unref();
  }

  private forgetOldDeliveries(now: number): void {
    if (now - this.lastForgetAtMs < 1_000) return;
    this.lastForgetAtMs = now;
    for (const [objectId, receivedAtMs] of this.delivered) {
      if (receivedAtMs + this.options.ttlMs <= now) this.delivered.delete(objectId);
    }
  }
}
