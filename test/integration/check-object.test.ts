import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { noopMetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createObjectActivities } from '../../src/activities';
import { ObjectServiceClient } from '../../src/activities/object-service';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
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

  before(async () => {
    database = await createTestDatabase();
    db = connectDatabase(database.url);
    objectService = await startStubObjectService((id, _attempt, response) =>
      answer(response, 200, { id, online: true }),
    );
  });
  after(async () => {
    await objectService?.close();
    await db?.$disconnect();
    await database?.drop();
  });

  /** The check, with the worker's knowledge of newer sightings (its dispatcher's) given as a map. */
  const check = (newestSightings: Map<number, number>, objectId: number, receivedAtMs: number) => {
    const { checkObject } = createObjectActivities({
      objectService: new ObjectServiceClient(objectService.url),
      objects: new ObjectsRepository(db),
      objectTtlSeconds: TTL_MS / 1000,
      deletedCounter: noopMetricMeter.createCounter('presence_objects_deleted'),
      newestSighting: (id) => newestSightings.get(id),
    });
    return new MockActivityEnvironment().run(checkObject, objectId, receivedAtMs);
  };
  const lastSeen = async (id: number) => (await db.trackedObject.findUnique({ where: { id } }))?.lastSeen.getTime();

  it('neither asks about nor writes a sighting that expired before its check', async () => {
    const expiredAt = Date.now() - TTL_MS - 1_000;
    assert.deepEqual(await check(new Map(), 77, expiredAt), { outcome: 'expired', coversReceivedAtMs: expiredAt });
    assert.equal(objectService.attempts.get(77), undefined);
    assert.equal(await lastSeen(77), undefined);
    const now = Date.now();
    assert.deepEqual(await check(new Map(), 77, now), { outcome: 'recorded', coversReceivedAtMs: now });
    assert.equal(await lastSeen(77), now);
  });

  it('answers, with one request, for the newest sighting its worker heard of before it started', async () => {
    const t0 = Date.now();
    const newestSightings = new Map([[106, t0 + 800]]);
    assert.deepEqual(await check(newestSightings, 106, t0), { outcome: 'recorded', coversReceivedAtMs: t0 + 800 });
    assert.equal(await lastSeen(106), t0 + 800);
    assert.equal(objectService.attempts.get(106), 1);
  });

  it('answers only for its own sighting when the worker heard of none newer of that object', async () => {
    const t0 = Date.now();
    const newestSightings = new Map([
      [107, t0 - 1_000],
      [108, t0 + 500],
    ]);
    assert.deepEqual(await check(newestSightings, 107, t0), { outcome: 'recorded', coversReceivedAtMs: t0 });
    assert.equal(await lastSeen(107), t0);
  });
});
