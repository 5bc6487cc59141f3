import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { noopMetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createObjectActivities } from '../../src/activities';
import { ObjectServiceClient } from '../../src/activities/object-service';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { HeldSightings } from '../support/held-sightings';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

const TTL_MS = 30_000;

/**
 * The check activity against a real HTTP object service and a real PostgreSQL, run in the SDK's
 * activity environment: what it asks, what it writes, and what it reports it answered for.
 */
describe('checkObject on PostgreSQL, with an object service over HTTP', () => {
  let database: TestDatabase;
  let db: Database;
  let objectService: StubObjectService;
  /** Per id, what happens while the object service is asked about it, before it answers. */
  const duringRequest = new Map<number, (attempt: number) => void>();

  before(async () => {
    database = await createTestDatabase();
    db = connectDatabase(database.url);
    objectService = await startStubObjectService((id, attempt, response) => {
      duringRequest.get(id)?.(attempt);
      answer(response, 200, { id, online: true });
    });
  });
  after(async () => {
    await objectService?.close();
    await db?.$disconnect();
    await database?.drop();
  });

  /** The check, with the worker's sightings held as the test says, and the checks' own 10 s timeout unless given. */
  const check = (sightings: HeldSightings, objectId: number, receivedAtMs: number, startToCloseTimeoutMs = 10_000) => {
    const { checkObject } = createObjectActivities({
      objectService: new ObjectServiceClient(objectService.url),
      objects: new ObjectsRepository(db),
      objectTtlSeconds: TTL_MS / 1000,
      deletedCounter: noopMetricMeter.createCounter('presence_objects_deleted'),
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

  it('leaves a newer sighting to its signal when too little of its timeout is left for one more request', async () => {
    const t0 = Date.now();
    const sightings = new HeldSightings();
    duringRequest.set(121, () => sightings.newest.set(121, t0 + 500));
    assert.deepEqual(await check(sightings, 121, t0, 5_000), { outcome: 'recorded', coversReceivedAtMs: t0 });
    assert.equal(objectService.attempts.get(121), 1);
    assert.deepEqual(sightings.served, [[121, t0, 'recorded']]);
    assert.equal(sightings.running.get(121), 0);
  });
});
