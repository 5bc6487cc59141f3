import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it, mock } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MAX_WAITING, SightingDispatcher } from '../../src/activities/sighting-dispatcher';

/** Deliveries the test answers by hand, in the order the dispatcher sent them. */
class Deliveries {
  readonly sent: Array<{ objectId: number; receivedAtMs: number }> = [];
  private readonly answers: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  readonly deliver = (objectId: number, receivedAtMs: number) => {
    this.sent.push({ objectId, receivedAtMs });
    return new Promise<void>((resolve, reject) => this.answers.push({ resolve, reject }));
  };

  /** Answers the delivery sent `index`-th, then lets the dispatcher react. */
  async answer(index: number, error?: Error): Promise<void> {
    await settle();
    const answer = this.answers[index];
    assert.ok(answer, `no delivery #${index} was sent`);
    if (error) answer.reject(error);
    else answer.resolve();
    await settle();
  }

  sentIds(): number[] {
    return this.sent.map(({ objectId }) => objectId);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await tick();
}

/** A hand-out under test: how many of its ids expired once it settled, and the indices done so far. */
function handOut(dispatcher: SightingDispatcher, objectIds: number[], receivedAtMs: number, abort?: AbortController) {
  const done: number[] = [];
  const state: { expired?: number; error?: unknown } = {};
  const settled = dispatcher
    .handOut(objectIds, receivedAtMs, {
      onDone: (index) => done.push(index),
      signal: (abort ?? new AbortController()).signal,
    })
    .then(
      (expired) => (state.expired = expired),
      (error: unknown) => (state.error = error),
    );
  return { done, state, settled };
}

function setUp(concurrency: number, ttlMs = 60_000, restMs = 0, startConcurrency = concurrency, maxWaiting?: number) {
  const deliveries = new Deliveries();
  let coalesced = 0;
  const dispatcher = new SightingDispatcher({
    deliver: deliveries.deliver,
    concurrency: { signals: concurrency, starts: startConcurrency },
    ttlMs,
    onCoalesced: (count) => (coalesced += count),
    restMs: restMs ? () => restMs : undefined,
    maxWaiting,
  });
  return { deliveries, dispatcher, coalesced: () => coalesced };
}

describe('sighting dispatcher', () => {
  const now = Date.now();

  it('signals an id once with the newest receipt time, which covers the older hand-out waiting for it', async () => {
    const { deliveries, dispatcher, coalesced } = setUp(1);
    // Id 1 takes the only slot; id 5 of the older callback waits behind it.
    const older = handOut(dispatcher, [1, 5], now - 2_000);
    const newer = handOut(dispatcher, [5], now - 1_000);
    await deliveries.answer(0);
    await deliveries.answer(1);
    await Promise.all([older.settled, newer.settled]);
    assert.deepEqual(deliveries.sent, [
      { objectId: 1, receivedAtMs: now - 2_000 },
      { objectId: 5, receivedAtMs: now - 1_000 },
    ]);
    assert.equal(older.state.expired, 0);
    assert.equal(newer.state.expired, 0);
    assert.deepEqual(older.done, [0, 1]);
    assert.equal(coalesced(), 1, 'the older sighting of 5 went without a signal of its own');
  });

  it('when behind, signals distinct ids first in, first out: a repeated id keeps its place in line', async () => {
    const { deliveries, dispatcher } = setUp(1);
    const callbacks = [
      handOut(dispatcher, [1, 2, 3], now - 3_000),
      handOut(dispatcher, [3, 4, 2], now - 2_000),
      handOut(dispatcher, [5, 1], now - 1_000),
    ];
    for (let i = 0; i < 6; i += 1) await deliveries.answer(i);
    await Promise.all(callbacks.map(({ settled }) => settled));
    // 1 was in flight when it was sighted again: its newer sighting waits for that delivery, then
    // goes in the line of running workflows, beside the line of starts.
    assert.deepEqual(
      deliveries.sent.map(({ objectId, receivedAtMs }) => [objectId, now - receivedAtMs]),
      [
        [1, 3_000],
        [1, 1_000],
        [2, 2_000],
        [3, 2_000],
        [4, 2_000],
        [5, 1_000],
      ],
    );
  });

  it('sends fewer signals at once for ids it has not delivered, whose signals likely start a workflow', async () => {
    const { deliveries, dispatcher } = setUp(3, 60_000, 0, 1);
    const known = handOut(dispatcher, [1], now - 2_000);
    await deliveries.answer(0);
    await known.settled;
    const mixed = handOut(dispatcher, [2, 3, 1], now - 1_000);
    await settle();
    assert.deepEqual(deliveries.sentIds(), [1, 1, 2], 'id 1 goes beside the one start; id 3 waits for it');
    await deliveries.answer(2);
    assert.deepEqual(deliveries.sentIds(), [1, 1, 2, 3]);
    await deliveries.answer(1);
    await deliveries.answer(3);
    await mixed.settled;
    assert.equal(mixed.state.expired, 0);
  });

  it('keeps a line of more ids than a function call takes arguments', async () => {
    const { deliveries, dispatcher } = setUp(1, 600_000);
    const count = 150_000;
    const aborts = Array.from({ length: count }, () => new AbortController());
    aborts.forEach((abort, id) => void handOut(dispatcher, [id], now - id, abort));
    await deliveries.answer(0);
    assert.deepEqual(deliveries.sentIds(), [0, 1]);
    assert.equal(dispatcher.backlog().ids, count - 1);
    for (const abort of aborts) abort.abort();
  });

  it('needs no signal for a sighting whose id already had one at least as new delivered', async () => {
    const { deliveries, dispatcher, coalesced } = setUp(4);
    const newer = handOut(dispatcher, [7], now - 1_000);
    await deliveries.answer(0);
    await newer.settled;
    const equal = handOut(dispatcher, [7], now - 1_000);
    const older = handOut(dispatcher, [7], now - 5_000);
    await Promise.all([equal.settled, older.settled]);
    assert.equal(deliveries.sent.length, 1);
    assert.deepEqual([equal.state.expired, older.state.expired], [0, 0]);
    assert.equal(coalesced(), 2);
  });

  it('signals again when a newer sighting comes while an older one is in flight', async () => {
    const { deliveries, dispatcher } = setUp(4);
    const older = handOut(dispatcher, [7], now - 2_000);
    const newer = handOut(dispatcher, [7], now - 1_000);
    await settle();
    assert.equal(deliveries.sent.length, 1, 'one delivery of an id at a time');
    await deliveries.answer(0);
    assert.equal(older.state.expired, 0);
    assert.equal(newer.state.expired, undefined, 'an older delivery does not cover a newer sighting');
    await deliveries.answer(1);
    assert.deepEqual(deliveries.sent[1], { objectId: 7, receivedAtMs: now - 1_000 });
    assert.equal(newer.state.expired, 0);
  });

  it('forgets a delivered sighting once older than the TTL, so memory follows the recent fleet', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const { deliveries, dispatcher } = setUp(1, 1_000);
      const first = handOut(dispatcher, [9], 1_000_000);
      await deliveries.answer(0);
      await first.settled;
      mock.timers.tick(1_500);
      // Forgotten, the delivery no longer covers it: the sighting is found expired instead.
      const again = handOut(dispatcher, [9], 1_000_000);
      await again.settled;
      assert.equal(again.state.expired, 1);
      assert.equal(deliveries.sent.length, 1);
    } finally {
      mock.timers.reset();
    }
  });

  it('fails the hand-outs a failed delivery would have covered, and drops what only they waited for', async () => {
    const { deliveries, dispatcher } = setUp(1);
    const failing = handOut(dispatcher, [1, 2, 3], now - 2_000);
    const other = handOut(dispatcher, [3], now - 3_000);
    await deliveries.answer(0, new Error('Temporal unavailable'));
    await failing.settled;
    assert.equal((failing.state.error as Error).message, 'Temporal unavailable');
    // Id 2 no longer has a hand-out waiting for it; id 3 still has the older one.
    await deliveries.answer(1);
    await other.settled;
    assert.deepEqual(
      deliveries.sent.map(({ objectId, receivedAtMs }) => [objectId, now - receivedAtMs]),
      [
        [1, 2_000],
        [3, 3_000],
      ],
    );
    assert.equal(other.state.expired, 0);
    assert.deepEqual(dispatcher.backlog(), { ids: 0, lagSeconds: 0 });
  });

  it('an aborted hand-out rejects with the reason and its ids are not signalled for it', async () => {
    const { deliveries, dispatcher } = setUp(1);
    const abort = new AbortController();
    const aborted = handOut(dispatcher, [1, 2], now - 1_000, abort);
    abort.abort(new Error('cancelled'));
    await aborted.settled;
    assert.equal((aborted.state.error as Error).message, 'cancelled');
    await deliveries.answer(0);
    assert.deepEqual(deliveries.sentIds(), [1]);
  });

  it('hands out nothing older than the TTL, also when a sighting grows that old while it waits its turn', async () => {
    const { deliveries, dispatcher } = setUp(1, 60_000);
    const stale = handOut(dispatcher, [1, 2], Date.now() - 60_000);
    await stale.settled;
    assert.equal(stale.state.expired, 2);
    assert.equal(deliveries.sent.length, 0);

    const blocking = handOut(dispatcher, [3], Date.now());
    const expiring = handOut(dispatcher, [4, 5], Date.now() - 60_000 + 100);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await deliveries.answer(0);
    await Promise.all([blocking.settled, expiring.settled]);
    assert.equal(expiring.state.expired, 2);
    assert.deepEqual(deliveries.sentIds(), [3], 'the expired ids were never signalled');
  });

  it('reports the backlog in ids and in seconds of receipt time', async () => {
    const { deliveries, dispatcher } = setUp(1);
    assert.deepEqual(dispatcher.backlog(), { ids: 0, lagSeconds: 0 });
    const older = handOut(dispatcher, [1, 2], now - 4_000);
    const newer = handOut(dispatcher, [2, 3], now - 1_000);
    assert.deepEqual(dispatcher.backlog(now), { ids: 3, lagSeconds: 4 });
    await deliveries.answer(0);
    await deliveries.answer(1);
    // 1 and the newest sighting of 2 are delivered; the older hand-out is covered.
    await older.settled;
    assert.deepEqual(dispatcher.backlog(now), { ids: 1, lagSeconds: 1 });
    await deliveries.answer(2);
    await newer.settled;
    assert.deepEqual(dispatcher.backlog(now), { ids: 0, lagSeconds: 0 });
  });

  it('with a rest, signals an id again only once the rest since its last delivery is over, with its newest sighting', async () => {
    const { deliveries, dispatcher, coalesced } = setUp(4, 60_000, 300);
    const first = handOut(dispatcher, [1], Date.now());
    await deliveries.answer(0);
    await first.settled;
    const sightedAt = Date.now();
    const during = [handOut(dispatcher, [1, 2], sightedAt), handOut(dispatcher, [1], sightedAt + 1)];
    await settle();
    assert.deepEqual(deliveries.sentIds(), [1, 2], 'id 2 goes at once; id 1 rests');
    await deliveries.answer(1);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.deepEqual(deliveries.sentIds(), [1, 2, 1]);
    assert.equal(deliveries.sent[2]!.receivedAtMs, sightedAt + 1);
    await deliveries.answer(2);
    await Promise.all(during.map(({ settled }) => settled));
    assert.equal(coalesced(), 1, 'the older sighting of 1 rode on the newer one');
    assert.equal(dispatcher.backlog().ids, 0);
  });

  it('holds at most its room of sightings in its lines: a hand-out that would pass it waits whole, in order', async () => {
    const { deliveries, dispatcher } = setUp(10, 60_000, 0, 10, 3);
    const first = handOut(dispatcher, [1, 2], now);
    const second = handOut(dispatcher, [3, 4], now);
    // It would fit beside the first, but waits behind the hand-out before it.
    const third = handOut(dispatcher, [5], now);
    await settle();
    assert.deepEqual(deliveries.sentIds(), [1, 2], 'room for 3: the second hand-out waits whole');
    assert.equal(dispatcher.backlog(now).ids, 5);
    await deliveries.answer(0);
    assert.deepEqual(deliveries.sentIds(), [1, 2, 3, 4]);
    await deliveries.answer(1);
    assert.deepEqual(deliveries.sentIds(), [1, 2, 3, 4, 5]);
    for (let i = 2; i < 5; i += 1) await deliveries.answer(i);
    await Promise.all([first.settled, second.settled, third.settled]);
  });

  it('lets a hand-out larger than its room in alone, and one aborted while it waits for room never in', async () => {
    const { deliveries, dispatcher } = setUp(1, 60_000, 0, 1, 2);
    const large = handOut(dispatcher, [1, 2, 3], now);
    const abort = new AbortController();
    const aborted = handOut(dispatcher, [4], now, abort);
    abort.abort(new Error('cancelled'));
    await aborted.settled;
    assert.equal((aborted.state.error as Error).message, 'cancelled');
    for (let i = 0; i < 3; i += 1) await deliveries.answer(i);
    await large.settled;
    assert.deepEqual(deliveries.sentIds(), [1, 2, 3]);
    assert.equal(dispatcher.backlog().ids, 0);
  });

  it('under a flood of 100 hand-outs of 10,000 distinct ids with deliveries held back, grows its heap by less than 64 MB', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { dispatcher } = setUp(32, 600_000, 0, 4);
    const ids = (first: number) => Array.from({ length: 10_000 }, (_, i) => first + i);
    const inputs = Array.from({ length: 100 }, (_, h) => ids(h * 10_000));
    gc();
    const before = process.memoryUsage().heapUsed;
    const aborts = inputs.map(() => new AbortController());
    const flood = inputs.map((input, h) => handOut(dispatcher, input, now, aborts[h]));
    await settle();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // In its lines: its room of sightings; the rest waits as the hand-outs' inputs, held anyway.
    assert.equal(dispatcher.backlog(now).ids, 1_000_000);
    assert.ok(grown < 64 * 2 ** 20, `the heap grew by ${(grown / 2 ** 20).toFixed(1)} MB for ${MAX_WAITING} in line`);
    for (const abort of aborts) abort.abort();
    await Promise.all(flood.map(({ settled }) => settled));
  });

  it('once deliveries resume, delivers every id of a flood larger than its room', async () => {
    const deliveries = new Deliveries();
    let held = true;
    const release: Array<() => void> = [];
    const dispatcher = new SightingDispatcher({
      deliver: (objectId, receivedAtMs) =>
        (held ? new Promise<void>((resolve) => release.push(resolve)) : Promise.resolve()).then(() => {
          deliveries.sent.push({ objectId, receivedAtMs });
        }),
      concurrency: { signals: 32, starts: 4 },
      ttlMs: 600_000,
      maxWaiting: 5_000,
    });
    const flood = Array.from({ length: 20 }, (_, h) =>
      handOut(
        dispatcher,
        Array.from({ length: 2_000 }, (_, i) => h * 2_000 + i),
        now,
      ),
    );
    await settle();
    assert.equal(deliveries.sent.length, 0);
    held = false;
    for (const resolve of release.splice(0)) resolve();
    await Promise.all(flood.map(({ settled }) => settled));
    assert.deepEqual(
      deliveries.sentIds().sort((a, b) => a - b),
      Array.from({ length: 40_000 }, (_, i) => i),
    );
    assert.ok(flood.every(({ state }) => state.expired === 0));
  });
});
