import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { Client } from 'pg';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { objectWorkflowId } from '../../src/workflows';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { startFakeObjectService, type FakeObjectService } from '../../dev/tester/object-service';
import type { CallbackDriver, DriverTotals } from './callback-driver';
import type { FleetCallbackDriver } from './fleet-driver';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { PartProcess } from './part-process';
import { freePort } from '../../dev/support/ports';
import { proxyDatabase, type TcpProxy } from '../../dev/support/tcp-proxy';
import { drain } from '../../dev/support/wait';

/** A time of day to the millisecond, for diagnostics. */
export const clockTime = (ms: number | undefined): string =>
  ms === undefined ? '-' : new Date(ms).toISOString().slice(11, 23);

export interface FaultHarnessOptions {
  /** Upstream latency range; every object is online, so every accepted id must become a row. */
  latencyMs: [number, number];
  /** How many API and worker processes `runningSystem` starts, each on ports of its own; one each unless set. */
  apis?: number;
  workers?: number;
  /** Added to what every part is started with. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The system as separate processes, each of which a test can kill: a Temporal dev server on a
 * database file, APIs and workers started like `npm run api` / `npm run worker`, a real
 * PostgreSQL database reached through a TCP proxy the test can cut, and an object service.
 */
export class FaultHarness {
  server!: DevServer;
  database!: TestDatabase;
  proxy!: TcpProxy;
  private proxiedDatabaseUrl!: string;
  objectService!: FakeObjectService;
  /** When the object service answered each request, by object id. */
  readonly objectAnswers = new Map<number, number[]>();
  /** The parts by index, each with its own ports; `api` and `worker` are the first of each. */
  readonly apis: Array<PartProcess | undefined> = [];
  readonly workers: Array<PartProcess | undefined> = [];
  private apiPorts: number[] = [];
  private workerPorts: Array<{ metrics: number; health: number }> = [];
  private temporalPort!: number;
  private dataDir!: string;
  private direct!: Client;

  private constructor(private readonly extraEnv: NodeJS.ProcessEnv = {}) {}

  /** Every object is online; the answer is noted. */
  private readonly recordAnswer = (id: number): boolean => {
    const answers = this.objectAnswers.get(id) ?? [];
    answers.push(Date.now());
    this.objectAnswers.set(id, answers);
    return true;
  };

  static async start(options: FaultHarnessOptions): Promise<FaultHarness> {
    const harness = new FaultHarness(options.env);
    harness.dataDir = await mkdtemp(path.join(tmpdir(), 'presence-faults-'));
    harness.temporalPort = await freePort();
    const [database, objectService] = await Promise.all([
      createTestDatabase(),
      startFakeObjectService({
        minLatencyMs: options.latencyMs[0],
        maxLatencyMs: options.latencyMs[1],
        isOnline: harness.recordAnswer,
      }),
      harness.startTemporal(),
    ]);
    harness.database = database;
    harness.objectService = objectService;
    // Only now: the dev server takes free ports of its own for its internal services as it starts,
    // and one picked before could be gone by the time the API or the worker binds it.
    for (let i = 0; i < (options.apis ?? 1); i += 1) harness.apiPorts.push(await freePort());
    for (let i = 0; i < (options.workers ?? 1); i += 1)
      harness.workerPorts.push({ metrics: await freePort(), health: await freePort() });
    ({ proxy: harness.proxy, url: harness.proxiedDatabaseUrl } = await proxyDatabase(database.url, await freePort()));
    harness.direct = new Client({ connectionString: database.url });
    await harness.direct.connect();
    return harness;
  }

  get api(): PartProcess | undefined {
    return this.apis[0];
  }

  get worker(): PartProcess | undefined {
    return this.workers[0];
  }

  get workerMetricsUrl(): string {
    return this.workerMetricsUrlOf(0);
  }

  private workerMetricsUrlOf(index: number): string {
    return `http://127.0.0.1:${this.portsOf(this.workerPorts, index).metrics}/metrics`;
  }

  get callbackUrl(): string {
    return this.callbackUrls[0] as string;
  }

  /** One per API, in the order of their indexes. */
  get callbackUrls(): string[] {
    return this.apiPorts.map((port) => `http://127.0.0.1:${port}/callback`);
  }

  /** What every part is started with; the ports of each part are added by startApi / startWorker. */
  env(): NodeJS.ProcessEnv {
    return {
      TEMPORAL_ADDRESS: `127.0.0.1:${this.temporalPort}`,
      TEMPORAL_TASK_QUEUE: 'presence-faults',
      DATABASE_URL: this.proxiedDatabaseUrl,
      OBJECT_SERVICE_URL: this.objectService.url,
      // Long enough that nothing accepted expires before the test looks for it.
      OBJECT_TTL_SECONDS: '3600',
      CLEANUP_INTERVAL_SECONDS: '1',
      ...this.extraEnv,
    };
  }

  /** Starts the dev server, or restarts it on the same port and database file. */
  async startTemporal(): Promise<void> {
    this.server = await startTemporalDevServer({
      port: this.temporalPort,
      dbFilename: path.join(this.dataDir, 'temporal.sqlite'),
      logLevel: 'error',
    });
  }

  async killTemporal(): Promise<void> {
    const child = this.server.process;
    if (!child) throw new Error('the dev server runs without a process of its own');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts API `index`, or starts it again on its port after the test killed it; `env` adds to or overrides `env()`. */
  async startApi(index = 0, env: NodeJS.ProcessEnv = {}): Promise<PartProcess> {
    const port = this.portsOf(this.apiPorts, index);
    const api = await PartProcess.start('api', { ...this.env(), PORT: String(port), ...env });
    this.apis[index] = api;
    return api;
  }

  /** Starts worker `index`, or starts it again on its ports after the test killed it; `env` adds to or overrides `env()`. */
  async startWorker(index = 0, env: NodeJS.ProcessEnv = {}): Promise<PartProcess> {
    const { metrics, health } = this.portsOf(this.workerPorts, index);
    const worker = await PartProcess.start('worker', {
      ...this.env(),
      WORKER_METRICS_PORT: String(metrics),
      WORKER_HEALTH_PORT: String(health),
      ...env,
    });
    this.workers[index] = worker;
    return worker;
  }

  private portsOf<T>(ports: T[], index: number): T {
    const found = ports[index];
    if (found === undefined) throw new Error(`the harness has ${ports.length} such parts, not one of index ${index}`);
    return found;
  }

  async readiness(): Promise<{ status: number; body: { status?: string; temporal?: boolean; database?: boolean } }> {
    const response = await fetch(`http://127.0.0.1:${this.portsOf(this.apiPorts, 0)}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as { status?: string; temporal?: boolean; database?: boolean },
    };
  }

  /** Callbacks waiting in the outbox, read straight from PostgreSQL. */
  async outboxCallbacks(): Promise<number> {
    const { rows } = await this.direct.query<{ count: string }>('SELECT count(*) FROM callback_outbox');
    return Number(rows[0]?.count ?? 0);
  }

  /** How many of `ids` have a row, read straight from PostgreSQL (not through the proxy). */
  async countRows(ids: Set<number>): Promise<number> {
    const { rows } = await this.direct.query<{ count: string }>('SELECT count(*) FROM objects WHERE id = ANY($1)', [
      [...ids],
    ]);
    return Number(rows[0]?.count ?? 0);
  }

  /** `last_seen` of those of `ids` that have a row, read straight from PostgreSQL. */
  async lastSeen(ids: Iterable<number>): Promise<Map<number, number>> {
    const { rows } = await this.direct.query<{ id: number; last_seen: Date }>(
      'SELECT id, last_seen FROM objects WHERE id = ANY($1)',
      [[...ids]],
    );
    return new Map(rows.map((row) => [row.id, row.last_seen.getTime()]));
  }

  /**
   * Polls until every id the driver got accepted has a row at its newest sighting; gives up at
   * `withinMs` when given, else once no row has caught up for a minute. Returns the last look. The
   * API stamps a callback after it was sent, on this machine's clock, so a row is at its newest
   * sighting exactly when it is no older than that sending.
   */
  async catchUp(
    driver: FleetCallbackDriver,
    withinMs?: number,
  ): Promise<{ lastSeen: Map<number, number>; behind: Array<[number, number]> }> {
    const deadline = withinMs === undefined ? Infinity : Date.now() + withinMs;
    let look = { lastSeen: new Map<number, number>(), behind: [] as Array<[number, number]> };
    await drain(async () => {
      const lastSeen = await this.lastSeen(driver.newestAcceptedSentAt.keys());
      const behind = [...driver.newestAcceptedSentAt].filter(([id, sentAt]) => (lastSeen.get(id) ?? 0) < sentAt);
      look = { lastSeen, behind };
      return Date.now() > deadline ? 0 : behind.length;
    });
    return look;
  }

  /** The end of each object workflow's history in short, for a failing test to show: its signals and finished checks. */
  async objectTimelines(objectIds: number[]): Promise<Map<number, string>> {
    const connection = await Connection.connect({ address: this.server.address });
    try {
      const client = new TemporalClient({ connection });
      const timelines = new Map<number, string>();
      for (const objectId of objectIds) {
        const history = await client.workflow.getHandle(objectWorkflowId(objectId)).fetchHistory();
        const lines = (history.events ?? []).map((event) => {
          const signal = event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
          const at = clockTime(tsToMs(event.eventTime));
          if (signal) return `${at} sighted ${clockTime(defaultPayloadConverter.fromPayload(signal))}`;
          return event.markerRecordedEventAttributes ? `${at} check done` : undefined;
        });
        timelines.set(objectId, lines.filter(Boolean).slice(-12).join(', '));
      }
      return timelines;
    } finally {
      await connection.close();
    }
  }

  /** A counter or gauge of a worker's Prometheus endpoint; undefined until the worker has set it. */
  async workerMetric(name: string, index = 0): Promise<number | undefined> {
    const text = await (await fetch(this.workerMetricsUrlOf(index))).text();
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** Brings the object service back on the address it had, after the test closed it. */
  async reopenObjectService(url: string, latencyMs: [number, number] = [50, 100]): Promise<void> {
    this.objectService = await startFakeObjectService({
      port: Number(new URL(url).port),
      minLatencyMs: latencyMs[0],
      maxLatencyMs: latencyMs[1],
      isOnline: this.recordAnswer,
    });
  }

  async insertRow(id: number, lastSeen: Date): Promise<void> {
    await this.direct.query('INSERT INTO objects (id, last_seen) VALUES ($1, $2)', [id, lastSeen]);
  }

  /**
   * Stops the driver and waits until every accepted id has a row, or until none has come for a
   * minute. `refusedButWritten` counts ids of callbacks answered with an error that have a row anyway.
   */
  async settle(
    driver: CallbackDriver,
  ): Promise<{ totals: DriverTotals; processed: number; refusedButWritten: number; summary: string }> {
    const totals = await driver.stop();
    const processed = await this.waitForRows(totals.acceptedIds);
    const refusedButWritten = await this.countRows(totals.refusedIds);
    const summary =
      `ids sent ${totals.sent}, accepted ${totals.accepted}, processed ${processed}, lost ${totals.accepted - processed}, ` +
      `refused ${totals.refusedIds.size} of which written ${refusedButWritten}`;
    return { totals, processed, refusedButWritten, summary };
  }

  /** Waits until every id has a row, or until none has come for a minute; returns how many have one. */
  async waitForRows(ids: Set<number>): Promise<number> {
    return ids.size - (await drain(async () => ids.size - (await this.countRows(ids))));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apis, ...this.workers].map((part) => part?.stop()));
    await this.direct?.end();
    await this.proxy?.cut();
    await this.server?.stop();
    await this.objectService?.close();
    await this.database?.drop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** Runs the APIs and workers against a fresh harness for the enclosing `describe`, and tears it down after. */
export function runningSystem(options: FaultHarnessOptions): () => FaultHarness {
  let harness: FaultHarness | undefined;
  before(async () => {
    const started = await FaultHarness.start(options);
    harness = started;
    const indexes = (count = 1) => Array.from({ length: count }, (_, index) => index);
    await Promise.all([
      ...indexes(options.apis).map((index) => started.startApi(index)),
      ...indexes(options.workers).map((index) => started.startWorker(index)),
    ]);
  });
  after(() => harness?.stop());
  return () => {
    if (!harness) throw new Error('the harness is not running');
    return harness;
  };
}
