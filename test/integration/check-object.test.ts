import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { noopMetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createObjectActivities, type ObjectActivityMetrics } from '../../src/activities';
import { ObjectServiceClient } from '../../src/activities/object-service';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { createWorkerMetrics } from '../../src/worker/metrics';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { HeldSightings } from '../support/held-sightings';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

const TTL_MS = 30_000;

/** Something one request handler waits for and another makes happen. */
function happening(): { happened: Promise<void>; now: () => void } {
  let now!: () => void;
  const happened = new Promise<void>((resolve) => (now = resolve));
  return { happened, now };
}

/**
 * The check activity against a real HTTP object service and a real PostgreSQL, run in the SDK's
 * activity environment: what it asks, what it writes, and what it reports it answered for.
 */
describe('checkObject on PostgreSQL, with an object service over HTTP', () => {
  let database: TestDatabase;
  let db: Database;
  let objectService: StubObjectService;
  /**
   * Per id, what happens while the object service is asked about it, before it answers: online,
   * unless this resolves to another status. Requests of the id in flight when one arrives, it included.
   */
  const duringRequest = new Map<number, (attempt: number) => void | Promise<void | number>>();
  const inFlightOnArrival = new Map<number, number[]>();

  before(async () => {
    database = await createTestDatabase();
    db = connectDatabase(database.url);
    const inFlight = new Map<number, number>();
    objectService = await startStubObjectService((id, attempt, response) => {
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
      inFlightOnArrival.set(id, [...(inFlightOnArrival.get(id) ?? []), inFlight.get(id)!]);
      void Promise.resolve(duringRequest.get(id)?.(attempt)).then((status) => {
        inFlight.set(id, inFlight.get(id)! - 1);
        if (status) answer(response, status, 'object service unavailable');
        else answer(response, 200, { id, online: true });
      });
    });
  });
  after(async () => {
    await objectService?.close();
    await db?.$disconnect();
    await database?.drop();
  });

  /** The check, with the worker's sightings held as the test says, and the checks' own 10 s timeout unless given. */
  const check = (
    sightings: HeldSightings,
    objectId: number,
    receivedAtMs: number,
    {
      startToCloseTimeoutMs = 10_000,
      connections = 10,
      metrics = createWorkerMetrics(noopMetricMeter).objects,
    }: { startToCloseTimeoutMs?: number; connections?: number; metrics?: ObjectActivityMetrics } = {},
  ) => {
    const { checkObject } = createObjectActivities({
      objectService: new ObjectServiceClient(objectService.url, { connections }),
      objects: new ObjectsRepository(db),
      objectTtlSeconds: TTL_MS / 1000,
      metrics,
      sightings,
    });
    return new MockActivityEnvironment({ startToCloseTimeoutMs }).run(checkObject, objectId, receivedAtMs);
  };
  const lastSeen = async (id: number) => (await db.trackedObject.findUnique({ where: { id } }))?.lastSeen.getTime();

  it('neither asks about nor writes a sighting that expired before its check', async () => {
    const expiredAt = Date.now() - TTL_MS - 1_000;
    assert.deepEqual(await check(new HeldSightings(), 77, expiredAt), {
      outcome: 'expired',
      coversReceivedAtMs: expiredAt,
    });
    assert.equal(objectService.attempts.get(77), undefined);
    assert.equal(await lastSeen(77), undefined);
    const now = Date.now();
    assert.deepEqual(await check(new HeldSightings(), 77, now), { outcome: 'recorded', coversReceivedAtMs: now });
    assert.equal(await lastSeen(77), now);
  });

  it('answers, with one request, for the newest sighting its worker heard of before it started', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    sightings.newest.set(106, t0 + 800);
    assert.deepEqual(await check(sightings, 106, t0), { outcome: 'recorded', coversReceivedAtMs: t0 + 800 });
    assert.equal(await lastSeen(106), t0 + 800);
    assert.equal(objectService.attempts.get(106), 1);
  });

  it("measures a sighting's wait for its request, and its row's age when written", async () => {
    const recorded = { checkWaitSeconds: [] as number[], rowDelaySeconds: [] as number[] };
    const recording = (name: keyof typeof recorded) =>
      Object.assign(noopMetricMeter.createHistogram(name), { record: (value: number) => recorded[name].push(value) });
    const metrics = {
      ...createWorkerMetrics(noopMetricMeter).objects,
      checkWaitSeconds: recording('checkWaitSeconds'),
      rowDelaySeconds: recording('rowDelaySeconds'),
    };
    duringRequest.set(109, () => sleep(300));
    const receivedAtMs = Date.now() - 2_000;
    await check(new HeldSightings(), 109, receivedAtMs, { metrics });
    const [wait] = recorded.checkWaitSeconds;
    const [delay] = recorded.rowDelaySeconds;
    assert.equal(recorded.checkWaitSeconds.length, 1);
    assert.ok(wait !== undefined && wait >= 2 && wait < 2.3, `waited ${wait} s`);
    assert.equal(recorded.rowDelaySeconds.length, 1);
    assert.ok(delay !== undefined && delay >= wait + 0.3, `row ${delay} s after receipt`);

    duringRequest.delete(109);
    await check(new HeldSightings(), 109, receivedAtMs - 1_000, { metrics });
    assert.equal(recorded.checkWaitSeconds.length, 2, 'an older sighting is asked about too');
    assert.equal(recorded.rowDelaySeconds.length, 1, 'but does not move the row');
  });

  it('answers only for its own sighting when the worker heard of none newer of that object', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    sightings.newest.set(107, t0 - 1_000);
    sightings.newest.set(108, t0 + 500);
    assert.deepEqual(await check(sightings, 107, t0), { outcome: 'recorded', coversReceivedAtMs: t0 });
    assert.equal(await lastSeen(107), t0);
  });

  it('asks again, within the same check, for a sighting that came in during its request', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    duringRequest.set(120, (attempt) => {
      if (attempt === 1) sightings.newest.set(120, t0 + 500);
    });
    assert.deepEqual(await check(sightings, 120, t0), { outcome: 'recorded', coversReceivedAtMs: t0 + 500 });
    assert.equal(objectService.attempts.get(120), 2);
    assert.equal(await lastSeen(120), t0 + 500);
    assert.deepEqual(sightings.served, [
      [120, t0, 'recorded'],
      [120, t0 + 500, 'recorded'],
    ]);
    assert.equal(sightings.running.get(120), 0, 'the check told the worker it ended');
  });

  it('asks at once, beside its running request, for a sighting that comes in during it, and abandons the older', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    duringRequest.set(122, (attempt) => {
      if (attempt > 1) return;
      sightings.sight(122, t0 + 500);
      return new Promise(() => {});
    });
    assert.deepEqual(await check(sightings, 122, t0), { outcome: 'recorded', coversReceivedAtMs: t0 + 500 });
    assert.deepEqual(inFlightOnArrival.get(122), [1, 2], 'the second request went out while the first was unanswered');
    assert.equal(await lastSeen(122), t0 + 500);
    assert.deepEqual(sightings.served, [[122, t0 + 500, 'recorded']]);
    assert.equal(sightings.running.get(122), 0);
  });

  it('keeps two requests in flight at most: a third sighting waits for one of them to answer', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    const secondArrived = happening();
    duringRequest.set(123, async (attempt) => {
      if (attempt === 1) {
        sightings.sight(123, t0 + 500);
        await secondArrived.happened;
      } else if (attempt === 2) {
        sightings.sight(123, t0 + 600);
        secondArrived.now();
        await sleep(300);
      }
    });
    assert.deepEqual(await check(sightings, 123, t0), { outcome: 'recorded', coversReceivedAtMs: t0 + 600 });
    assert.deepEqual(inFlightOnArrival.get(123), [1, 2, 2], 'the third went out once the first had answered');
    assert.equal(await lastSeen(123), t0 + 600);
    assert.deepEqual(
      sightings.served.map(([, receivedAtMs]) => receivedAtMs),
      [t0, t0 + 600],
      'the second answered after the third: superseded, not written',
    );
  });

  it('asks for a sighting that came in during its request after it, when the worker has no connection to spare', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    duringRequest.set(125, async (attempt) => {
      if (attempt > 1) return;
      sightings.sight(125, t0 + 500);
      await sleep(100);
    });
    assert.deepEqual(await check(sightings, 125, t0, { connections: 1 }), {
      outcome: 'recorded',
      coversReceivedAtMs: t0 + 500,
    });
    assert.deepEqual(inFlightOnArrival.get(125), [1, 1]);
    assert.deepEqual(
      sightings.served.map(([, receivedAtMs]) => receivedAtMs),
      [t0, t0 + 500],
    );
  });

  it('fails, to be retried, when its newest request fails, even though an older one answered', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    const secondAnswered = happening();
    duringRequest.set(124, async (attempt) => {
      if (attempt === 1) {
        sightings.sight(124, t0 + 500);
        await secondAnswered.happened;
        await sleep(100);
        return;
      }
      secondAnswered.now();
      return 503;
    });
    await assert.rejects(check(sightings, 124, t0), { type: 'ObjectService.unavailable' });
    assert.equal(await lastSeen(124), t0, 'what the older request answered is written');
    assert.deepEqual(sightings.served, [[124, t0, 'recorded']]);
    assert.equal(sightings.running.get(124), 0);
  });

  it('leaves a newer sighting to its signal when too little of its timeout is left for one more request', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    duringRequest.set(121, () => {
      sightings.newest.set(121, t0 + 500);
    });
    assert.deepEqual(await check(sightings, 121, t0, { startToCloseTimeoutMs: 5_000 }), {
      outcome: 'recorded',
      coversReceivedAtMs: t0,
    });
    assert.equal(objectService.attempts.get(121), 1);
    assert.deepEqual(sightings.served, [[121, t0, 'recorded']]);
    assert.equal(sightings.running.get(121), 0);
  });
});
