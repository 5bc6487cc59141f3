import { Heap } from 'heap-js';
import type { CheckOutcome } from '../workflows/contracts';
import type { AdaptiveConcurrency } from './adaptive-concurrency';

export interface SightingDispatcherOptions {
  /** Signal-with-starts the object's workflow with this receipt time; resolves once Temporal has it. */
  deliver: (objectId: number, receivedAtMs: number) => Promise<unknown>;
  /** Bounds the deliveries in flight; shared with nothing else, it tracks the Temporal server's pace. */
  concurrency: AdaptiveConcurrency;
  /** A sighting this old would not be written by its check, so it is not delivered. */
  ttlMs: number;
  /** Told of sightings covered without a signal of their own, by a delivered sighting at least as new. */
  onCoalesced?: (count: number) => void;
}

export interface HandOutWatch {
  /** Called once per id, with its index in the hand-out, when its sighting is delivered or covered. */
  onCovered: (index: number) => void;
  /** Ends the hand-out: its ids no longer need delivering on its behalf, and it rejects with the reason. */
  signal: AbortSignal;
}

export interface HandOutOutcome {
  /** Ids delivered or covered by a delivered newer-or-equal sighting of the same id. */
  covered: number;
  /** Ids neither, when the hand-out's receipt time grew older than the TTL. */
  expired: number;
}

export interface HandOutBacklog {
  /** Distinct ids some hand-out still waits for. */
  ids: number;
  /** Age of the oldest sighting not yet delivered nor covered, in seconds of receipt time; 0 when none. */
  lagSeconds: number;
}

/** One hand-out: the ids of a callback, all with the callback's receipt time, not yet covered. */
class Registration {
  readonly remaining = new Map<number, number>();
  covered = 0;
  expiryTimer?: NodeJS.Timeout;

  constructor(
    readonly receivedAtMs: number,
    readonly watch: HandOutWatch,
    readonly settle: { resolve: (outcome: HandOutOutcome) => void; reject: (error: unknown) => void },
  ) {}
}

/**
 * Hands sightings to their object workflows for every hand-out on this worker, coalescing
 * across the whole backlog: per id, only the newest pending sighting is signalled, and a
 * sighting needs no signal at all once a sighting of its id at least as new has been delivered.
 *
 * Which id goes first when there are more than the server takes at once: the one whose row is
 * due soonest. An id without a delivered sighting (that this dispatcher remembers) has no row
 * yet: its row has been due since its oldest waiting sighting was received, and the oldest of
 * these are the nearest to expiring. An id with a delivered sighting has a row, or will once
 * that check ends, which lapses a TTL after that sighting: that is when the newer one is due.
 * So under overload presence holds (every sighted object gets its row, and keeps it) and only
 * freshness degrades: a row that has just been refreshed waits. Newest first would instead
 * serve the often sighted objects again and again while a rarely sighted one's only sighting
 * waited until it expired. An object that a check on this worker found offline has no row
 * either, so when it comes online its sighting counts as a first one. (One checked on another
 * worker counts as having a row here: under overload, its row can wait up to a TTL.)
 *
 * Why this loses nothing. A delivered signal is in the object workflow's history; the workflow
 * checks after it arrives, and a check asks the object service for the status *now*. So a check
 * that starts after a sighting received at time T answers for every sighting of that id received
 * before T too, and the write takes the newest receipt time (the upsert never moves `last_seen`
 * back). A hand-out therefore completes once each of its ids is delivered, or covered by a
 * delivered sighting of that id with a receipt time >= its own, or has expired (older than the
 * TTL: its check would not write it, and the cleanup would delete the row). A check on this
 * worker covers sightings too, without a signal (checkStarted): once its request, started after
 * their receipt, has answered and its write has committed, what they ask for is done and in
 * PostgreSQL, whatever becomes of the check's workflow task.
 *
 * Crash safety. All of this is memory, one dispatcher per worker. A hand-out is an activity
 * with a heartbeat timeout: when its worker dies, Temporal retries it elsewhere, and the retry
 * registers its ids again (from its last heartbeat), on a dispatcher that remembers nothing and
 * so signals them again. A sighting is never lost; only repeated signals can result, which the
 * object workflow coalesces like any other sighting that arrives while a check runs.
 *
 * Memory stays bounded by the fleet: per id, one pending receipt time, one in flight and the
 * newest delivered, the latter forgotten once older than the TTL (it can cover only sightings
 * older still, which have expired anyway), and the checks running here.
 */
export class SightingDispatcher {
  /** Per id, the hand-outs that wait for it. */
  private readonly waiters = new Map<number, Set<Registration>>();
  /** Per id to signal, when its row is due (see the class comment). */
  private readonly queuedAt = new Map<number, number>();
  /**
   * The queued ids, soonest due first, and first queued first among those due at once (a
   * callback's ids in its order, so that its hand-out's checkpoint advances). An entry whose due
   * time is no longer the id's in `queuedAt` is stale, skipped when it comes up: a fleet can
   * queue many thousands of ids.
   */
  private readonly dueOrder = new Heap<{ dueAtMs: number; order: number; objectId: number }>(
    (a, b) => a.dueAtMs - b.dueAtMs || a.order - b.order,
  );
  private queuedCount = 0;
  private readonly inFlight = new Map<number, number>();
  /** Per id, the newest receipt time delivered into its workflow or served by a check here. */
  private readonly delivered = new Map<number, number>();
  /** Per id, the checks of it running on this worker, each by what it hears of new sightings (see checkStarted). */
  private readonly checking = new Map<number, Set<{ onSighting: () => void }>>();
  /** Ids whose latest check here left no row to keep: found offline, or its sighting expired. */
  private readonly withoutRow = new Set<number>();
  private readonly registrations = new Set<Registration>();
  private lastForgetAtMs = 0;

  constructor(private readonly options: SightingDispatcherOptions) {}

  /**
   * Registers a callback's ids with its receipt time; resolves once each is delivered, covered
   * or expired. Rejects when a delivery this hand-out waits for fails (the activity's retry
   * registers the ids again) or when `watch.signal` aborts. Registration happens before the
   * call returns.
   */
  handOut(objectIds: readonly number[], receivedAtMs: number, watch: HandOutWatch): Promise<HandOutOutcome> {
    return new Promise<HandOutOutcome>((resolve, reject) => {
      const now = Date.now();
      this.forgetExpiredDeliveries(now);
      if (watch.signal.aborted) return reject(watch.signal.reason);
      if (this.hasExpired(receivedAtMs, now)) return resolve({ covered: 0, expired: objectIds.length });
      const registration = new Registration(receivedAtMs, watch, { resolve, reject });
      let coveredAlready = 0;
      const checked: number[] = [];
      objectIds.forEach((objectId, index) => {
        if ((this.delivered.get(objectId) ?? -Infinity) >= receivedAtMs) {
          registration.covered += 1;
          coveredAlready += 1;
          watch.onCovered(index);
          return;
        }
        registration.remaining.set(objectId, index);
        let waiting = this.waiters.get(objectId);
        if (!waiting) this.waiters.set(objectId, (waiting = new Set()));
        waiting.add(registration);
        if (this.checking.has(objectId)) checked.push(objectId);
        this.requeue(objectId);
      });
      // Once this hand-out is fully registered: a check may serve the sighting straight away.
      if (checked.length > 0) queueMicrotask(() => this.tellChecks(checked));
      this.coalesced(coveredAlready);
      if (registration.remaining.size === 0) return resolve({ covered: registration.covered, expired: 0 });
      this.registrations.add(registration);
      registration.expiryTimer = setTimeout(() => this.expire(registration), receivedAtMs + this.options.ttlMs - now);
      const onAbort = () => this.end(registration, () => reject(watch.signal.reason));
      watch.signal.addEventListener('abort', onAbort, { once: true });
      const { resolve: resolveOnce, reject: rejectOnce } = registration.settle;
      registration.settle.resolve = (outcome) => {
        watch.signal.removeEventListener('abort', onAbort);
        resolveOnce(outcome);
      };
      registration.settle.reject = (error) => {
        watch.signal.removeEventListener('abort', onAbort);
        rejectOnce(error);
      };
      this.pump();
    });
  }

  /**
   * The newest receipt time of `objectId` that a hand-out on this worker registered, whether
   * still waiting, in flight or delivered; forgotten a TTL after it was delivered.
   *
   * A check uses it to answer for every sighting of the object received before its status
   * request starts, not only for the one its workflow asked about (docs/contract.md). A signal
   * that arrives while the workflow's check runs would otherwise cost one more check once that
   * one ends. This is memory and best effort: a check on a worker that has not heard of a
   * sighting leaves it to the check that the sighting's signal starts.
   */
  newestSighting(objectId: number): number | undefined {
    const newest = Math.max(
      this.delivered.get(objectId) ?? -Infinity,
      this.inFlight.get(objectId) ?? -Infinity,
      this.waiting(objectId).newest,
    );
    return newest === -Infinity ? undefined : newest;
  }

  /**
   * A check of `objectId` begins on this worker. Until it ends (the returned function), the id's
   * waiting sightings are not signalled: the check serves them itself, asking again for each one
   * it hears of through `onSighting` (see createObjectActivities), which costs the engine no
   * signal and no workflow task.
   */
  checkStarted(objectId: number, onSighting: () => void): () => void {
    const check = { onSighting };
    let checks = this.checking.get(objectId);
    if (!checks) this.checking.set(objectId, (checks = new Set()));
    checks.add(check);
    this.unqueue(objectId);
    return () => this.checkEnded(objectId, check);
  }

  /**
   * A check on this worker whose request started after `receivedAtMs` has answered, and its
   * write, if any, has committed: that is all a sighting received by then asks for (the row is
   * in PostgreSQL, durable whatever becomes of the workflow task), so every hand-out waiting for
   * a sighting of the id no newer is covered, without a signal. The outcome says whether the
   * object now has a row, which decides when its next sighting is due.
   */
  checkServed(objectId: number, receivedAtMs: number, outcome: CheckOutcome): void {
    if (outcome === 'recorded' || outcome === 'already-newer') this.withoutRow.delete(objectId);
    else this.withoutRow.add(objectId);
    this.coalesced(this.cover(objectId, receivedAtMs).length);
  }

  private tellChecks(objectIds: readonly number[]): void {
    for (const objectId of objectIds) {
      for (const check of this.checking.get(objectId) ?? []) check.onSighting();
    }
  }

  /** The check has ended: whatever of the id still waits is signalled, as usual. */
  private checkEnded(objectId: number, check: { onSighting: () => void }): void {
    const checks = this.checking.get(objectId);
    checks?.delete(check);
    if (checks?.size === 0) this.checking.delete(objectId);
    this.requeue(objectId);
    this.pump();
  }

  /** How far behind the hand-outs on this worker are. */
  backlog(now = Date.now()): HandOutBacklog {
    let oldest = Infinity;
    for (const { receivedAtMs } of this.registrations) oldest = Math.min(oldest, receivedAtMs);
    return { ids: this.waiters.size, lagSeconds: oldest === Infinity ? 0 : Math.max(0, now - oldest) / 1000 };
  }

  private hasExpired(receivedAtMs: number, now: number): boolean {
    return receivedAtMs + this.options.ttlMs <= now;
  }

  /** Starts deliveries, the row due soonest first, while the concurrency limit has room. */
  private pump(): void {
    while (this.inFlight.size < this.options.concurrency.current) {
      const next = this.takeMostDue();
      if (!next) return;
      this.send(next.objectId, next.receivedAtMs);
    }
  }

  private takeMostDue(): { objectId: number; receivedAtMs: number } | undefined {
    for (let entry = this.dueOrder.pop(); entry; entry = this.dueOrder.pop()) {
      const { dueAtMs, objectId } = entry;
      if (this.queuedAt.get(objectId) !== dueAtMs) continue;
      this.queuedAt.delete(objectId);
      const receivedAtMs = this.waiting(objectId).newest;
      // Every hand-out waiting for it has expired too; their own timers end them.
      if (!this.hasExpired(receivedAtMs, Date.now())) return { objectId, receivedAtMs };
    }
    return undefined;
  }

  private send(objectId: number, receivedAtMs: number): void {
    this.inFlight.set(objectId, receivedAtMs);
    this.options.concurrency
      .run(() => this.options.deliver(objectId, receivedAtMs))
      .then(
        () => {
          this.inFlight.delete(objectId);
          const covered = this.cover(objectId, receivedAtMs);
          // The delivered sighting's own hand-outs had their signal.
          this.coalesced(covered.filter((registration) => registration.receivedAtMs < receivedAtMs).length);
        },
        (error: unknown) => {
          this.inFlight.delete(objectId);
          for (const registration of this.coveredBy(objectId, receivedAtMs)) {
            this.end(registration, () => registration.settle.reject(error));
          }
        },
      )
      .finally(() => {
        this.requeue(objectId);
        this.pump();
      });
  }

  /** The hand-outs waiting for `objectId` that a delivery of `receivedAtMs` answers for. */
  private coveredBy(objectId: number, receivedAtMs: number): Registration[] {
    return [...(this.waiters.get(objectId) ?? [])].filter((registration) => registration.receivedAtMs <= receivedAtMs);
  }

  /**
   * A sighting of the id received at `receivedAtMs` is delivered or served: it covers every
   * waiting sighting of the id no newer. Returns their hand-outs.
   */
  private cover(objectId: number, receivedAtMs: number): Registration[] {
    this.delivered.set(objectId, Math.max(receivedAtMs, this.delivered.get(objectId) ?? -Infinity));
    const covered = this.coveredBy(objectId, receivedAtMs);
    for (const registration of covered) this.coverIn(registration, objectId);
    return covered;
  }

  private coalesced(count: number): void {
    if (count > 0) this.options.onCoalesced?.(count);
  }

  private coverIn(registration: Registration, objectId: number): void {
    const index = registration.remaining.get(objectId) as number;
    this.release(registration, objectId);
    registration.covered += 1;
    registration.watch.onCovered(index);
    if (registration.remaining.size === 0) {
      this.end(registration, () => registration.settle.resolve({ covered: registration.covered, expired: 0 }));
    }
  }

  private expire(registration: Registration): void {
    const expired = registration.remaining.size;
    this.end(registration, () => registration.settle.resolve({ covered: registration.covered, expired }));
  }

  /** Takes a hand-out out: the ids it still waited for no longer need delivering on its behalf. */
  private end(registration: Registration, settle: () => void): void {
    if (!this.registrations.delete(registration)) return;
    clearTimeout(registration.expiryTimer);
    for (const objectId of [...registration.remaining.keys()]) {
      this.release(registration, objectId);
      this.requeue(objectId);
    }
    settle();
  }

  private release(registration: Registration, objectId: number): void {
    registration.remaining.delete(objectId);
    const waiting = this.waiters.get(objectId);
    waiting?.delete(registration);
    if (waiting?.size === 0) this.waiters.delete(objectId);
  }

  /**
   * Puts the id in the queue at when its row is due, when a hand-out waits for a sighting newer
   * than the delivered one; otherwise, or while a delivery or a check of it is running (their
   * ends requeue it), takes it out.
   */
  private requeue(objectId: number): void {
    const dueAtMs = this.dueAt(objectId);
    if (dueAtMs === undefined) return this.unqueue(objectId);
    if (this.queuedAt.get(objectId) === dueAtMs) return;
    this.queuedAt.set(objectId, dueAtMs);
    this.dueOrder.push({ dueAtMs, order: (this.queuedCount += 1), objectId });
    // Stale entries outnumbering the live ones: rebuild from what is queued.
    if (this.dueOrder.size() > 2 * this.queuedAt.size + 1_000) {
      const live = this.dueOrder.toArray().filter(({ dueAtMs, objectId }) => this.queuedAt.get(objectId) === dueAtMs);
      this.dueOrder.init(live);
    }
  }

  /** When the id's row is due, if it is to be signalled now (see requeue); else undefined. */
  private dueAt(objectId: number): number | undefined {
    if (this.inFlight.has(objectId) || this.checking.has(objectId)) return undefined;
    const { oldest, newest } = this.waiting(objectId);
    const delivered = this.delivered.get(objectId);
    if (newest <= (delivered ?? -Infinity)) return undefined;
    const hasRow = delivered !== undefined && !this.withoutRow.has(objectId);
    return hasRow ? delivered + this.options.ttlMs : oldest;
  }

  /** The receipt times of the oldest and the newest sighting of the id that hand-outs wait for. */
  private waiting(objectId: number): { oldest: number; newest: number } {
    let oldest = Infinity;
    let newest = -Infinity;
    for (const { receivedAtMs } of this.waiters.get(objectId) ?? []) {
      oldest = Math.min(oldest, receivedAtMs);
      newest = Math.max(newest, receivedAtMs);
    }
    return { oldest, newest };
  }

  /** Its heap entry goes stale, and is skipped when it comes up. */
  private unqueue(objectId: number): void {
    this.queuedAt.delete(objectId);
  }

  /** At most once a second: deliveries older than the TTL cover only sightings that have expired. */
  private forgetExpiredDeliveries(now: number): void {
    if (now - this.lastForgetAtMs < 1_000) return;
    this.lastForgetAtMs = now;
    for (const [objectId, receivedAtMs] of this.delivered) {
      if (!this.hasExpired(receivedAtMs, now)) continue;
      this.delivered.delete(objectId);
      this.withoutRow.delete(objectId);
    }
  }
}
