import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApi, type Api } from '../../src/api/create-api';
import { loadConfig } from '../../src/config';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { createWorkerProcess, type WorkerProcess } from '../../src/worker/worker-process';
import { checkStateQuery, objectWorkflowId, type ObjectCheckState } from '../../src/workflows';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { eventually } from '../../dev/support/wait';

export interface StackOptions {
  objectServiceUrl: string;
  objectTtlSeconds?: number;
  maxConcurrentChecks?: number;
  /** HAND_OUT_MAX_WAITING of the worker. */
  handOutMaxWaiting?: number;
  dbFilename?: string;
  /** Serves the Temporal Web UI on this port; none when unset. */
  uiPort?: number;
}

/**
 * The real system in one test process: a Temporal dev server from the installed CLI, a fresh
 * PostgreSQL database, a worker and the callback API (on an ephemeral port).
 */
export class TestStack {
  readonly taskQueue = `presence-test-${process.pid}`;
  server!: DevServer;
  database!: TestDatabase;
  db!: Database;
  client!: Client;
  api!: Api;
  callbackUrl!: string;
  private worker?: { worker: WorkerProcess; running: Promise<void> };

  constructor(private readonly options: StackOptions) {}

  static async start(options: StackOptions): Promise<TestStack> {
    // Expected activity failures would otherwise fill the test output with warnings.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const stack = new TestStack(options);
    const [server, database] = await Promise.all([
      startTemporalDevServer({
        port: await freePort(),
        dbFilename: options.dbFilename,
        uiPort: options.uiPort,
        logLevel: 'error',
      }),
      createTestDatabase(),
    ]);
    stack.server = server;
    stack.database = database;
    stack.db = connectDatabase(database.url);
    await stack.startWorker();
    stack.api = createApi(
      loadConfig({
        PORT: String(await freePort()),
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: stack.taskQueue,
        LOG_LEVEL: 'silent',
      }),
    );
    // The tests query Temporal through the API's client.
    stack.client = stack.api.client;
    stack.callbackUrl = `${await stack.api.listen()}/callback`;
    return stack;
  }

  async startWorker(): Promise<void> {
    const config = loadConfig({
      TEMPORAL_ADDRESS: this.server.address,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      DATABASE_URL: this.database.url,
      OBJECT_SERVICE_URL: this.options.objectServiceUrl,
      OBJECT_TTL_SECONDS: String(this.options.objectTtlSeconds ?? 30),
      OBJECT_SERVICE_MAX_CONCURRENCY: String(this.options.maxConcurrentChecks ?? 200),
      ...(this.options.handOutMaxWaiting && { HAND_OUT_MAX_WAITING: String(this.options.handOutMaxWaiting) }),
      WORKER_HEALTH_PORT: String(await freePort()),
      LOG_LEVEL: 'error',
    });
    // The tests that need expiry set up its schedule themselves.
    const worker = await createWorkerProcess(config, { cleanupSchedule: false });
    this.worker = { worker, running: worker.run() };
  }

  async stopWorker(): Promise<void> {
    if (!this.worker) return;
    await this.worker.worker.shutdown();
    await this.worker.running;
    this.worker = undefined;
  }

  async postCallback(objectIds: unknown[], idempotencyKey?: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(this.callbackUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
      },
      body: JSON.stringify({ object_ids: objectIds }),
    });
    return { status: response.status, body: await response.json() };
  }

  async rows(): Promise<Map<number, Date>> {
    const rows = await this.db.trackedObject.findMany({ orderBy: { id: 'asc' } });
    return new Map(rows.map((row) => [row.id, row.lastSeen]));
  }

  /** Waits until the object's workflow has finished checking a sighting received at or after `receivedAfterMs`. */
  async checked(objectId: number, receivedAfterMs: number, timeoutMs?: number): Promise<ObjectCheckState> {
    const handle = this.client.workflow.getHandle(objectWorkflowId(objectId));
    return eventually(
      async () => {
        const state = await handle.query(checkStateQuery);
        const done =
          !state.checking &&
          state.pendingReceivedAtMs === undefined &&
          (state.checkedReceivedAtMs ?? 0) >= receivedAfterMs;
        return done ? state : undefined;
      },
      `the check of object ${objectId}`,
      timeoutMs,
    );
  }

  /** Workflows of this stack's task queue that are still running. */
  async runningWorkflows(): Promise<number> {
    const { count } = await this.client.workflow.count(
      `TaskQueue = "${this.taskQueue}" AND ExecutionStatus = "Running"`,
    );
    return count;
  }

  /** The ids of the workflows of this stack's task queue that the visibility list shows started at or after `since`. */
  async workflowsStartedSince(since: Date): Promise<string[]> {
    const ids: string[] = [];
    const query = `TaskQueue = "${this.taskQueue}" AND StartTime >= "${since.toISOString()}"`;
    for await (const { workflowId } of this.client.workflow.list({ query })) ids.push(workflowId);
    return ids.sort();
  }

  async stop(): Promise<void> {
    await this.api?.close();
    await this.stopWorker();
    await this.db?.$disconnect();
    await this.server?.stop();
    await this.database?.drop();
  }
}
