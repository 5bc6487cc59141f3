import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { callbackWorkflowId, startCallbackWorkflow } from '../../src/callbacks/workflow-start';
import { loadConfig } from '../../src/config';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { ACTIVITY_SLOTS } from '../../src/worker/temporal-worker';
import { createWorkerProcess, type WorkerProcess } from '../../src/worker/worker-process';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { eventually } from '../../dev/support/wait';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

const CLEANUP_INTERVAL_SECONDS = 3;
/**
 * Long only so that the check interval below, and with it the hand-outs' wait, outlasts the test;
 * the rows are put in already that old, so it costs the test no time.
 */
const TTL_SECONDS = 120;
/** A delivered id rests this long, and every hand-out of it meanwhile waits its turn in the dispatcher, holding a slot. */
const MIN_CHECK_INTERVAL_SECONDS = 100;
/** The contract's "a few seconds": the Schedule's start, the cleanup workflow's tasks and the delete. */
const FEW_SECONDS = 3;
/** How long the test watches the rows while the hand-outs hold every slot: several cleanup intervals. */
const WATCH_MS = 15_000;
/** More hand-outs than the worker has activity slots, so that the rest wait on the server. */
const HAND_OUTS = ACTIVITY_SLOTS + 50;
const STARTS_AT_ONCE = 25;
const OBJECT_ID = 1;

describe("expiry while hand-outs hold every one of the worker's activity slots", () => {
  let server: DevServer;
  let database: TestDatabase;
  let objectService: StubObjectService;
  let db: Database;
  let client: Client;
  let worker: WorkerProcess;
  let running: Promise<void>;
  let metricsUrl: string;
  const taskQueue = `presence-expiry-${process.pid}`;

  before(async () => {
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // The SDK's slot gauges show the hand-outs holding the worker's activity slots.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } },
    });
    [server, database, objectService] = await Promise.all([
      startTemporalDevServer({ port: await freePort(), logLevel: 'error' }),
      createTestDatabase(),
      startStubObjectService((id, _attempt, response) => answer(response, 200, { id, online: false })),
    ]);
    db = connectDatabase(database.url);
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
    worker = await createWorkerProcess(
      loadConfig({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        DATABASE_URL: database.url,
        OBJECT_SERVICE_URL: objectService.url,
        OBJECT_TTL_SECONDS: String(TTL_SECONDS),
        CLEANUP_INTERVAL_SECONDS: String(CLEANUP_INTERVAL_SECONDS),
        MIN_CHECK_INTERVAL_SECONDS: String(MIN_CHECK_INTERVAL_SECONDS),
        WORKER_HEALTH_PORT: String(await freePort()),
        LOG_LEVEL: 'silent',
      }),
    );
    running = worker.run();
  });
  after(async () => {
    await worker?.shutdown();
    await running;
    await client?.connection.close();
    await db?.$disconnect();
    await objectService?.close();
    await server?.stop();
    await database?.drop();
  });

  const postCallback = (workflowId = callbackWorkflowId()) =>
    startCallbackWorkflow(client, taskQueue, { workflowId, objectIds: [OBJECT_ID], receivedAtMs: Date.now() }).then(
      () => workflowId,
    );

  /** The main worker's activity slots, from the SDK's gauges. */
  const activitySlots = async (): Promise<{ used: number; available: number }> => {
    const text = await (await fetch(metricsUrl)).text();
    const gauge = (name: string) => {
      const line = text
        .split('\n')
        .find(
          (candidate) =>
            candidate.startsWith(`${name}{`) &&
            candidate.includes('worker_type="ActivityWorker"') &&
            candidate.includes(`task_queue="${taskQueue}"`),
        );
      return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    return { used: gauge('temporal_worker_task_slots_used'), available: gauge('temporal_worker_task_slots_available') };
  };

  it('deletes every row within TTL + interval + a few seconds', async () => {
    // The id's first sighting is signalled at once; then it rests for the check interval.
    await client.workflow.getHandle(await postCallback()).result();
    for (let posted = 0; posted < HAND_OUTS; posted += STARTS_AT_ONCE) {
      await Promise.all(Array.from({ length: Math.min(STARTS_AT_ONCE, HAND_OUTS - posted) }, () => postCallback()));
    }
    const full = await eventually(async () => {
      const slots = await activitySlots();
      return slots.available === 0 ? slots : undefined;
    }, 'the hand-outs to hold every activity slot');
    assert.equal(full.used, ACTIVITY_SLOTS);

    // Every second a row turns exactly TTL old, by the database's clock, which also judges the bound.
    const boundSeconds = TTL_SECONDS + CLEANUP_INTERVAL_SECONDS + FEW_SECONDS;
    const watchUntil = Date.now() + WATCH_MS;
    let nextId = 1_000;
    let nextRowAt = 0;
    while (Date.now() < watchUntil) {
      if (Date.now() >= nextRowAt) {
        await db.$executeRaw`
          INSERT INTO objects (id, last_seen)
          VALUES (${nextId++}::integer, clock_timestamp() - ${TTL_SECONDS}::integer * interval '1 second')`;
        nextRowAt = Date.now() + 1_000;
      }
      const overdue = await db.$queryRaw<Array<{ id: number; ageSeconds: number }>>`
        SELECT id, extract(epoch FROM clock_timestamp() - last_seen)::float8 AS "ageSeconds" FROM objects
        WHERE last_seen < clock_timestamp() - ${boundSeconds}::integer * interval '1 second'`;
      assert.deepEqual(overdue, [], `rows older than ${boundSeconds} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal((await activitySlots()).available, 0, 'the hand-outs held every slot throughout');
  });
});
