import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it, mock } from 'node:test';
import { AdaptiveConcurrency } from '../../src/activities/adaptive-concurrency';
import { SightingDispatcher, type HandOutOutcome } from '../../src/activities/sighting-dispatcher';

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
}

/** Lets the dispatcher's promise chains (the concurrency limit, the answers) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await tick();
}

/** A hand-out under test: its outcome once settled, and the indices covered so far. */
function handOut(dispatcher: SightingDispatcher, objectIds: number[], receivedAtMs: number, abort?: AbortController) {
  const covered: number[] = [];
  const state: { outcome?: HandOutOutcome; error?: unknown } = {};
  const done = dispatcher
    .handOut(objectIds, receivedAtMs, {
      onCovered: (index) => covered.push(index),
      signal: (abort ?? new AbortController()).signal,
    })
    .then(
      (outcome) => (state.outcome = outcome),
      (error: unknown) => (state.error = error),
    );
  return { covered, state, done };
}

function setUp(limit: number, ttlMs = 60_000) {
  const deliveries = new Deliveries();
  let coalesced = 0;
  const dispatcher = new SightingDispatcher({
    deliver: deliveries.deliver,
    concurrency: new AdaptiveConcurrency({ initial: limit, min: limit, max: limit, tolerance: 2, floorMs: 5 }),
    ttlMs,
    onCoalesced: (count) => (coalesced += count),
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
    await Promise.all([older.done, newer.done]);
    assert.deepEqual(deliveries.sent, [
      { objectId: 1, receivedAtMs: now - 2_000 },
      { objectId: 5, receivedAtMs: now - 1_000 },
    ]);
    assert.deepEqual(older.state.outcome, { covered: 2, expired: 0 });
    assert.deepEqual(newer.state.outcome, { covered: 1, expired: 0 });
    assert.deepEqual(older.covered, [0, 1]);
    assert.equal(coalesced(), 1, 'the older sighting of 5 went without a signal of its own');
  });

  it('knows the newest sighting of each id its hand-outs registered: waiting, in flight or delivered', async () => {
    const { deliveries, dispatcher } = setUp(1);
    const abort = new AbortController();
    // 1 takes the only slot; 2 waits, twice.
    void handOut(dispatcher, [1, 2], now - 3_000, abort);
    void handOut(dispatcher, [2], now - 2_000, abort);
    assert.equal(dispatcher.newestSighting(1), now - 3_000, 'in flight');
    assert.equal(dispatcher.newestSighting(2), now - 2_000, 'the newer of two waiting');
    assert.equal(dispatcher.newestSighting(3), undefined, 'never registered');
    await deliveries.answer(0);
    // Covered at once by the delivered newer sighting of 1.
    void handOut(dispatcher, [1], now - 4_000, abort);
    assert.equal(dispatcher.newestSighting(1), now - 3_000, 'delivered');
    abort.abort();
  });

  it('forgets a delivered sighting once older than the TTL, so memory follows the recent fleet', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const { deliveries, dispatcher } = setUp(1, 1_000);
      const first = handOut(dispatcher, [9], 1_000_000);
      await deliveries.answer(0);
      await first.done;
      mock.timers.tick(1_500);
      const second = handOut(dispatcher, [10], 1_001_500);
      assert.equal(dispatcher.newestSighting(9), undefined, 'forgotten');
      assert.equal(dispatcher.newestSighting(10), 1_001_500);
      await deliveries.answer(1);
      await second.done;
    } finally {
      mock.timers.reset();
    }
  });

  it('when behind, hands out the row due soonest first: objects without a row, oldest first, then rows by when they lapse', async () => {
    const { deliveries, dispatcher } = setUp(1, 60_000);
    const alreadyDelivered: Array<[objectId: number, receivedAtMs: number]> = [
      [2, now - 20_000],
      [1, now - 10_000],
    ];
    for (const [index, [objectId, receivedAtMs]] of alreadyDelivered.entries()) {
      const delivered = handOut(dispatcher, [objectId], receivedAtMs);
      await deliveries.answer(index);
      await delivered.done;
    }
    // 3 takes the only slot while the rest queue up behind it.
    const waiting = [
      handOut(dispatcher, [3], now - 9_000),
      handOut(dispatcher, [1], now - 1_000), // its row lapses at now + 50 s
      handOut(dispatcher, [2], now - 2_000), // its row lapses at now + 40 s
      handOut(dispatcher, [4], now - 500), // no row, sighted 0.5 s ago
      handOut(dispatcher, [5], now - 8_000), // no row, sighted 8 s ago
    ];
    for (let i = 2; i < 7; i += 1) await deliveries.answer(i);
    await Promise.all(waiting.map(({ done }) => done));
    assert.deepEqual(
      deliveries.sent.slice(2).map(({ objectId }) => objectId),
      [3, 5, 4, 2, 1],
    );
  });

  it('takes an object its check here found offline as one without a row: its next sighting goes before refreshes', async () => {
    const { deliveries, dispatcher } = setUp(1, 60_000);
    for (const [index, objectId] of [1, 2].entries()) {
      const delivered = handOut(dispatcher, [objectId], now - 20_000);
      await deliveries.answer(index);
      await delivered.done;
    }
    const checkEnded = dispatcher.checkStarted(2, () => {});
    dispatcher.checkServed(2, now - 20_000, 'offline');
    checkEnded();
    // 3 takes the only slot; behind it, 1 only needs its row refreshed, 2 has none.
    const waiting = [
      handOut(dispatcher, [3], now - 9_000),
      handOut(dispatcher, [1], now - 2_000),
      handOut(dispatcher, [2], now - 1_000),
    ];
    for (let i = 2; i < 5; i += 1) await deliveries.answer(i);
    await Promise.all(waiting.map(({ done }) => done));
    assert.deepEqual(
      deliveries.sent.slice(2).map(({ objectId }) => objectId),
      [3, 2, 1],
    );
  });

  it("among ids due at once, hands out a callback's ids in their order", async () => {
    const { deliveries, dispatcher } = setUp(1);
    const objectIds = Array.from({ length: 40 }, (_, i) => 100 + i);
    const callback = handOut(dispatcher, objectIds, now - 1_000);
    for (let i = 0; i < objectIds.length; i += 1) await deliveries.answer(i);
    await callback.done;
    assert.deepEqual(
      deliveries.sent.map(({ objectId }) => objectId),
      objectIds,
    );
  });

  it('keeps a queue of more ids than a function call takes arguments, soonest due first', async () => {
    const { deliveries, dispatcher } = setUp(1, 600_000);
    const count = 150_000;
    const aborts = Array.from({ length: count }, () => new AbortController());
    // Each id in a hand-out of its own, the oldest sighting last: no two are due at once.
    aborts.forEach((abort, id) => void handOut(dispatcher, [id], now - id, abort));
    await deliveries.answer(0);
    await settle();
    assert.deepEqual(
      deliveries.sent.map(({ objectId }) => objectId),
      [0, count - 1],
    );
    for (const abort of aborts) abort.abort();
  });

  it('needs no signal for a sighting whose id already had one at least as new delivered', async () => {
    const { deliveries, dispatcher, coalesced } = setUp(4);
    const newer = handOut(dispatcher, [7], now - 1_000);
    await deliveries.answer(0);
    await newer.done;
    const equal = handOut(dispatcher, [7], now - 1_000);
    const older = handOut(dispatcher, [7], now - 5_000);
    await Promise.all([equal.done, older.done]);
    assert.equal(deliveries.sent.length, 1);
    assert.deepEqual(equal.state.outcome, { covered: 1, expired: 0 });
    assert.deepEqual(older.state.outcome, { covered: 1, expired: 0 });
    assert.equal(coalesced(), 2);
  });

  it('signals again when a newer sighting comes while an older one is in flight', async () => {
    const { deliveries, dispatcher } = setUp(4);
    const older = handOut(dispatcher, [7], now - 2_000);
    const newer = handOut(dispatcher, [7], now - 1_000);
    await settle();
    assert.equal(deliveries.sent.length, 1, 'one delivery of an id at a time');
    await deliveries.answer(0);
    assert.deepEqual(older.state.outcome, { covered: 1, expired: 0 });
    assert.equal(newer.state.outcome, undefined, 'an older delivery does not cover a newer sighting');
    await deliveries.answer(1);
    assert.deepEqual(deliveries.sent[1], { objectId: 7, receivedAtMs: now - 1_000 });
    assert.deepEqual(newer.state.outcome, { covered: 1, expired: 0 });
  });

  it('fails the hand-outs a failed delivery would have covered, and drops what only they waited for', async () => {
    const { deliveries, dispatcher } = setUp(1);
    const failing = handOut(dispatcher, [1, 2, 3], now - 2_000);
    const other = handOut(dispatcher, [3], now - 3_000);
    await deliveries.answer(0, new Error('Temporal unavailable'));
    await failing.done;
    assert.equal((failing.state.error as Error).message, 'Temporal unavailable');
    // Id 2 no longer has a hand-out waiting for it; id 3 still has the older one.
    await deliveries.answer(1);
    await other.done;
    assert.deepEqual(
      deliveries.sent.map(({ objectId, receivedAtMs }) => [objectId, now - receivedAtMs]),
      [
        [1, 2_000],
        [3, 3_000],
      ],
    );
    assert.deepEqual(other.state.outcome, { covered: 1, expired: 0 });
    assert.deepEqual(dispatcher.backlog(), { ids: 0, lagSeconds: 0 });
  });

  it('an aborted hand-out rejects with the reason and its ids are not signalled for it', async () => {
    const { deliveries, dispatcher } = setUp(1);
    const abort = new AbortController();
    const aborted = handOut(dispatcher, [1, 2], now - 1_000, abort);
    abort.abort(new Error('cancelled'));
    await aborted.done;
    assert.equal((aborted.state.error as Error).message, 'cancelled');
    await deliveries.answer(0);
    assert.deepEqual(
      deliveries.sent.map(({ objectId }) => objectId),
      [1],
    );
  });

  it('hands out nothing older than the TTL, and ends a hand-out that grows that old while it waits', async () => {
    const { deliveries, dispatcher } = setUp(1, 60_000);
    const stale = handOut(dispatcher, [1, 2], Date.now() - 60_000);
    await stale.done;
    assert.deepEqual(stale.state.outcome, { covered: 0, expired: 2 });
    assert.equal(deliveries.sent.length, 0);

    const blocking = handOut(dispatcher, [3], Date.now());
    const expiring = handOut(dispatcher, [4, 5], Date.now() - 60_000 + 100);
    await expiring.done;
    assert.deepEqual(expiring.state.outcome, { covered: 0, expired: 2 });
    await deliveries.answer(0);
    await blocking.done;
    assert.deepEqual(
      deliveries.sent.map(({ objectId }) => objectId),
      [3],
      'the expired ids were never signalled',
    );
  });

  it('while a check of an id runs here, lets it serve the sightings that come in, without a signal', async () => {
    const { deliveries, dispatcher, coalesced } = setUp(4);
    const heard: Array<number | undefined> = [];
    const checkEnded = dispatcher.checkStarted(8, () => heard.push(dispatcher.newestSighting(8)));
    const during = handOut(dispatcher, [8, 9], now - 1_000);
    await settle();
    assert.deepEqual(heard, [now - 1_000], 'the check heard of the sighting as it came');
    assert.deepEqual(
      deliveries.sent.map(({ objectId }) => objectId),
      [9],
      '8 waits for its running check',
    );
    dispatcher.checkServed(8, now - 500, 'recorded');
    checkEnded();
    await deliveries.answer(0);
    await during.done;
    assert.deepEqual(during.state.outcome, { covered: 2, expired: 0 });
    assert.equal(deliveries.sent.length, 1, '8 was never signalled');
    assert.equal(coalesced(), 1);
    assert.equal(dispatcher.newestSighting(8), now - 500);
  });

  it('completes a hand-out whose sighting a check serves as soon as it hears of it', async () => {
    const { deliveries, dispatcher } = setUp(4);
    const checkEnded = dispatcher.checkStarted(8, () =>
      dispatcher.checkServed(8, dispatcher.newestSighting(8) as number, 'recorded'),
    );
    const during = handOut(dispatcher, [8, 9], now - 1_000);
    await deliveries.answer(0);
    await during.done;
    assert.deepEqual(during.state.outcome, { covered: 2, expired: 0 });
    assert.deepEqual(deliveries.sent, [{ objectId: 9, receivedAtMs: now - 1_000 }], '8 was served, not signalled');
    checkEnded();
  });

  it('signals what a check left unserved once it ends', async () => {
    const { deliveries, dispatcher } = setUp(4);
    const checkEnded = dispatcher.checkStarted(8, () => {});
    const older = handOut(dispatcher, [8], now - 2_000);
    const newer = handOut(dispatcher, [8], now - 1_000);
    // The check's request had started before the newer sighting came.
    dispatcher.checkServed(8, now - 2_000, 'recorded');
    await older.done;
    assert.equal(deliveries.sent.length, 0);
    checkEnded();
    await deliveries.answer(0);
    await newer.done;
    assert.deepEqual(deliveries.sent, [{ objectId: 8, receivedAtMs: now - 1_000 }]);
    assert.deepEqual(newer.state.outcome, { covered: 1, expired: 0 });
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
    await older.done;
    assert.deepEqual(dispatcher.backlog(now), { ids: 1, lagSeconds: 1 });
    await deliveries.answer(2);
    await newer.done;
    assert.deepEqual(dispatcher.backlog(now), { ids: 0, lagSeconds: 0 });
  });
});
