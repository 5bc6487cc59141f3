import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import { noopMetricMeter, SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { createHandOut } from '../../src/activities/hand-out';
import { SightingDispatcher } from '../../src/activities/sighting-dispatcher';
import { createSightingSignal } from '../../src/activities/sighting-signal';
import { loadConfig } from '../../src/config';
import { callbackWorkflowId, startCallbackWorkflow } from '../../src/callbacks/workflow-start';
import {
  ensureObjectIdSearchAttribute,
  OBJECT_ID_SEARCH_ATTRIBUTE,
  type ObjectIdSearchAttribute,
} from '../../src/worker/object-id-search-attribute';
import { createWorkerProcess } from '../../src/worker/worker-process';
import { checkStateQuery, objectWorkflowId } from '../../src/workflows';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { eventually } from '../../dev/support/wait';

const INT = encodeSearchAttributeIndexedValueType(SearchAttributeType.INT);
const TASK_QUEUE = `object-id-test-${process.pid}`;

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, warnings: () => lines.filter(({ level }) => level === pino.levels.values.warn) };
}

const registeredType = async (client: Client) =>
  (await client.connection.operatorService.listSearchAttributes({ namespace: 'default' })).customAttributes[
    OBJECT_ID_SEARCH_ATTRIBUTE.name
  ];

const count = async (client: Client, query: string) => (await client.workflow.count(query)).count;

describe('the ObjectId search attribute on object workflows, on real Temporal dev servers', () => {
  let objectService: StubObjectService;
  let database: TestDatabase;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    objectService = await startStubObjectService((id, _attempt, response) =>
      answer(response, 200, { id, online: true }),
    );
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    await objectService?.close();
  });

  /** The real worker, start-up check included, on a server; stopped again by the returned function. */
  async function runWorker(address: string, logger = capturingLogger().logger) {
    const worker = await createWorkerProcess(
      loadConfig({
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        DATABASE_URL: database.url,
        OBJECT_SERVICE_URL: objectService.url,
        OBJECT_SERVICE_MAX_CONCURRENCY: '10',
        WORKER_HEALTH_PORT: String(await freePort()),
      }),
      { logger },
    );
    const running = worker.run();
    return async () => {
      await worker.shutdown();
      await running;
    };
  }

  /** What the API does with an accepted callback; resolves once every id is handed out. */
  async function callback(client: Client, objectIds: number[]): Promise<void> {
    const workflowId = callbackWorkflowId();
    await startCallbackWorkflow(client, TASK_QUEUE, { workflowId, objectIds, receivedAtMs: Date.now() });
    await client.workflow.getHandle(workflowId).result();
  }

  // The failure a test provokes would otherwise be logged as a warning.
  const activityEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  /** A hand-out activity as the worker builds it, run outside a worker. */
  const handOut = (client: Client, objectIdSearchAttribute?: ObjectIdSearchAttribute) =>
    createHandOut({
      dispatcher: new SightingDispatcher({
        deliver: createSightingSignal({ client, taskQueue: TASK_QUEUE, objectIdSearchAttribute }),
        concurrency: { signals: 2, starts: 2 },
        ttlMs: 30_000,
      }),
      metrics: { expired: noopMetricMeter.createCounter('expired') },
    });

  describe('on the dev server npm start runs', () => {
    let server: DevServer;
    let client: Client;
    before(async () => {
      server = await startTemporalDevServer({ port: await freePort(), logLevel: 'error' });
      client = new Client({ connection: await Connection.connect({ address: server.address }) });
    });
    after(async () => {
      await client?.connection.close();
      await server?.stop();
    });

    it('is registered before any worker starts, and finds a callback’s object workflows by id and by range', async () => {
      assert.equal(await registeredType(client), INT);
      const stop = await runWorker(server.address);
      try {
        await callback(client, [700, 701, 799]);
      } finally {
        await stop();
      }
      const described = await client.workflow.getHandle(objectWorkflowId(700)).describe();
      assert.equal(described.typedSearchAttributes.get(OBJECT_ID_SEARCH_ATTRIBUTE), 700);
      // Visibility records are written after the start returns.
      await eventually(
        async () => ((await count(client, 'ObjectId BETWEEN 700 AND 701')) === 2 ? true : undefined),
        'both ids in the range',
      );
      assert.equal(await count(client, 'ObjectId = 700'), 1);
      assert.equal(await count(client, 'ObjectId = 799'), 1);
      assert.equal(await count(client, 'ObjectId >= 702 AND ObjectId < 799'), 0);
    });
  });

  describe('on a server that suggests continue-as-new after a few checks', () => {
    let server: DevServer;
    let client: Client;
    before(async () => {
      server = await startTemporalDevServer({
        port: await freePort(),
        logLevel: 'error',
        // 4,096 events by default: a handful of sightings here instead of hundreds.
        dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 20 },
      });
      client = new Client({ connection: await Connection.connect({ address: server.address }) });
    });
    after(async () => {
      await client?.connection.close();
      await server?.stop();
    });

    it('is carried into every run the object workflow continues as', async () => {
      const stop = await runWorker(server.address);
      const objectId = 740;
      const handle = client.workflow.getHandle(objectWorkflowId(objectId));
      try {
        await callback(client, [objectId]);
        const firstRunId = (await handle.describe()).runId;
        // One sighting after another, each once the previous one is checked, until a new run checks.
        for (let sent = 1; (await handle.describe()).runId === firstRunId; sent += 1) {
          assert.ok(sent < 15, `no continue-as-new after ${sent} sightings`);
          const sentAt = Date.now();
          await callback(client, [objectId]);
          await eventually(async () => {
            const state = await handle.query(checkStateQuery);
            return !state.checking && (state.checkedReceivedAtMs ?? 0) >= sentAt ? true : undefined;
          }, 'the check of the latest sighting');
        }
        assert.equal((await handle.describe()).typedSearchAttributes.get(OBJECT_ID_SEARCH_ATTRIBUTE), objectId);
      } finally {
        await stop();
      }
      const runs = await count(client, `WorkflowId = "${objectWorkflowId(objectId)}"`);
      assert.ok(runs >= 2);
      await eventually(
        async () => ((await count(client, `ObjectId = ${objectId}`)) === runs ? true : undefined),
        `all ${runs} runs by ObjectId`,
      );
    });
  });

  describe('on a server set up without it', () => {
    let server: DevServer;
    let client: Client;
    before(async () => {
      server = await startTemporalDevServer({ port: await freePort(), logLevel: 'error', searchAttributes: [] });
      client = new Client({ connection: await Connection.connect({ address: server.address }) });
    });
    after(async () => {
      await client?.connection.close();
      await server?.stop();
    });

    it('where it may not be registered (as on Temporal Cloud), the worker warns once and hands out without it', async () => {
      assert.equal(await registeredType(client), undefined);
      // The same server, but its operator service refuses to add search attributes.
      const refusing: unknown = Object.create(client.connection.operatorService, {
        addSearchAttributes: { value: () => Promise.reject(new Error('PermissionDenied: Request unauthorized.')) },
      });
      const connection = Object.create(client.connection, { operatorService: { value: refusing } }) as ConnectionLike;
      const { logger, warnings } = capturingLogger();

      const key = await ensureObjectIdSearchAttribute(new Client({ connection }), 'default', logger);

      assert.equal(key, undefined);
      assert.equal(warnings().length, 1);
      assert.match(warnings()[0]?.msg ?? '', /temporal operator search-attribute create .*--name ObjectId --type Int/);
      assert.match(warnings()[0]?.msg ?? '', /tcld namespace search-attributes add/);
      assert.equal(await registeredType(client), undefined);
      // What the fallback spares every hand-out: a start that sets the attribute fails here.
      await assert.rejects(
        activityEnvironment().run(handOut(client, OBJECT_ID_SEARCH_ATTRIBUTE), [729], Date.now()),
        (error: Error) => {
          assert.match(String(error.cause), /no mapping defined for search attribute ObjectId/);
          return true;
        },
      );
      const result = await activityEnvironment().run(handOut(client, key), [730, 731], Date.now());
      assert.deepEqual(result, { handedOut: 2, expired: 0 });
      for (const id of [730, 731]) {
        const described = await client.workflow.getHandle(objectWorkflowId(id)).describe();
        assert.equal(described.status.name, 'RUNNING');
        assert.equal(described.typedSearchAttributes.get(OBJECT_ID_SEARCH_ATTRIBUTE), undefined);
      }
    });

    it('where the server lets it, the worker registers it and sets it', async () => {
      assert.equal(await registeredType(client), undefined);
      const { logger, warnings } = capturingLogger();
      const stop = await runWorker(server.address, logger);
      try {
        assert.equal(await registeredType(client), INT);
        assert.deepEqual(warnings(), []);
        await callback(client, [732]);
      } finally {
        await stop();
      }
      await eventually(
        async () => ((await count(client, 'ObjectId = 732')) === 1 ? true : undefined),
        'object 732 by ObjectId',
      );
    });
  });
});
