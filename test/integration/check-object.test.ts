import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, noopMetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createObjectActivities, type ObjectActivityMetrics } from '../../src/activities/object-activities';
import type { CheckResult } from '../../src/workflows';
import { ObjectServiceClient } from '../../src/activities/object-service';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { createWorkerMetrics } from '../../src/worker/metrics';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

const TTL_MS = 30_000;

/**
 * The check activity against a real HTTP object service and a real PostgreSQL, run in the SDK's
 * activity environment: what it asks, what it writes, and how it fails.
 */
describe('checkObject on PostgreSQL, with an object service over HTTP', () => {
  let database: TestDatabase;
  let db: Database;
  let objectService: StubObjectService;
  /**
   * Per id, what happens while the object service is asked about it, before it answers: online,
   * unless it gives another status.
   */
  const duringRequest = new Map<number, (attempt: number) => void | number | Promise<void | number>>();
  /** Ids the object service reports offline. */
  const offline = new Set<number>();

  before(async () => {
    database = await createTestDatabase();
    db = connectDatabase(database.url);
    objectService = await startStubObjectService((id, attempt, response) => {
      void Promise.resolve(duringRequest.get(id)?.(attempt)).then((status) => {
        if (status) answer(response, status, 'object service unavailable');
        else answer(response, 200, { id, online: !offline.has(id) });
      });
    });
  });
  after(async () => {
    await objectService?.close();
    await db?.$disconnect();
    await database?.drop();
  });

  const activities = ({
    ttlMs = TTL_MS,
    metrics = createWorkerMetrics(noopMetricMeter).objects,
    objects = new ObjectsRepository(db),
    objectServiceUrl = objectService.url,
  }: {
    ttlMs?: number;
    metrics?: ObjectActivityMetrics;
    objects?: ObjectsRepository;
    objectServiceUrl?: string;
  } = {}) =>
    createObjectActivities({
      objectService: new ObjectServiceClient(objectServiceUrl),
      objects,
      objectTtlSeconds: ttlMs / 1000,
      metrics,
    });
  const check = (objectId: number, receivedAtMs: number, options?: Parameters<typeof activities>[0]) =>
    new MockActivityEnvironment().run(activities(options).checkObject, objectId, receivedAtMs) as Promise<CheckResult>;
  const outcomeOf = async (...args: Parameters<typeof check>) => (await check(...args)).outcome;
  const lastSeen = async (id: number) => (await db.trackedObject.findUnique({ where: { id } }))?.lastSeen.getTime();

  it('neither asks about nor writes a sighting that expired before its check', async () => {
    assert.equal(await outcomeOf(77, Date.now() - TTL_MS - 1_000), 'expired');
    assert.equal(objectService.attempts.get(77), undefined);
    assert.equal(await lastSeen(77), undefined);
    const now = Date.now();
    assert.equal(await outcomeOf(77, now), 'recorded');
    assert.equal(await lastSeen(77), now);
  });

  it('does not try to write a sighting that expired, so its retries end even while the database is away', async () => {
    const unreachable = connectDatabase('postgresql://postgres@127.0.0.1:1/none');
    try {
      const { recordSighting } = activities({ objects: new ObjectsRepository(unreachable) });
      const expired = Date.now() - TTL_MS - 1;
      assert.equal(await new MockActivityEnvironment().run(recordSighting, 75, expired), 'expired');
    } finally {
      await unreachable.$disconnect();
    }
  });

  it('says when its request went out, and a covered sighting is written without one', async () => {
    const before = Date.now();
    const { outcome, askedAtMs } = await check(76, before - 1_000);
    assert.equal(outcome, 'recorded');
    assert.ok(askedAtMs !== undefined && askedAtMs >= before && askedAtMs <= Date.now(), `asked at ${askedAtMs}`);
    const { recordSighting } = activities({ objectServiceUrl: 'http://127.0.0.1:1' });
    assert.equal(await new MockActivityEnvironment().run(recordSighting, 76, before - 500), 'recorded');
    assert.equal(await lastSeen(76), before - 500);
    assert.equal(objectService.attempts.get(76), 1, 'no second request');
  });

  it('does not write a sighting that expired while its request ran, however late the answer comes', async () => {
    duringRequest.set(78, () => sleep(1_200));
    assert.equal(await outcomeOf(78, Date.now() - 1_000, { ttlMs: 2_000 }), 'expired');
    assert.equal(objectService.attempts.get(78), 1);
    assert.equal(await lastSeen(78), undefined);
  });

  it('moves last_seen only forward', async () => {
    const t0 = Date.now();
    assert.equal(await outcomeOf(79, t0), 'recorded');
    assert.equal(await outcomeOf(79, t0 - 1_000), 'already-newer');
    assert.equal(await lastSeen(79), t0);
  });

  it('leaves the row alone when a newer sighting is answered offline', async () => {
    const seenAt = Date.now() - 1_000;
    assert.equal(await outcomeOf(81, seenAt), 'recorded');
    offline.add(81);
    assert.equal(await outcomeOf(81, seenAt + 500), 'offline');
    assert.equal(objectService.attempts.get(81), 2, 'the newer sighting was asked about');
    assert.equal(await lastSeen(81), seenAt);
  });

  it('fails retryably on a 5xx, and for good when the object service rejects the id', async () => {
    duringRequest.set(80, () => 503);
    await assert.rejects(check(80, Date.now()), (error: ApplicationFailure) => {
      assert.equal(error.type, 'ObjectService.unavailable');
      assert.equal(error.nonRetryable, false);
      return true;
    });
    duringRequest.set(80, () => 400);
    await assert.rejects(check(80, Date.now()), (error: ApplicationFailure) => {
      assert.equal(error.type, 'ObjectService.rejected');
      assert.equal(error.nonRetryable, true);
      return true;
    });
    assert.equal(await lastSeen(80), undefined);
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
    await check(109, receivedAtMs, { metrics });
    const [wait] = recorded.checkWaitSeconds;
    const [delay] = recorded.rowDelaySeconds;
    assert.equal(recorded.checkWaitSeconds.length, 1);
    assert.ok(wait !== undefined && wait >= 2 && wait < 2.3, `waited ${wait} s`);
    assert.equal(recorded.rowDelaySeconds.length, 1);
    assert.ok(delay !== undefined && delay >= wait + 0.3, `row ${delay} s after receipt`);

    duringRequest.delete(109);
    await check(109, receivedAtMs - 1_000, { metrics });
    assert.equal(recorded.checkWaitSeconds.length, 2, 'an older sighting is asked about too');
    assert.equal(recorded.rowDelaySeconds.length, 1, 'but does not move the row');
  });
});
