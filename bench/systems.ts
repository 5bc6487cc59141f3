import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect, type Channel } from 'amqplib';
import { Client } from 'pg';
import { stopChild } from '../dev/embedded/child-process';
import { startTemporalDevServer } from '../dev/embedded/temporal-dev-server';
import { loadConfig } from '../src/config';
import { freePort } from '../dev/support/ports';
import { createTestDatabase, type TestDatabase } from '../dev/support/database';
import { proxyDatabase, type TcpProxy } from '../dev/support/tcp-proxy';
import { eventually } from '../dev/support/wait';
import { pidsByName, type ProcessGroup } from './processes';
import { readServerRequests, type ServerRequests } from './server-requests';
import { readHistogram, type Histogram } from './worker-histogram';

const ROOT = path.join(__dirname, '..');
/**
 * Where the project's `dist/` runs from: this checkout, or BENCH_PROJECT_ROOT, another checkout
 * built with `npm run build`, to measure an earlier commit under the same bench.
 */
const PROJECT_ROOT = path.resolve(process.env.BENCH_PROJECT_ROOT ?? ROOT);
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** The bench's own database connections carry this name, so they are not counted as the system's. */
export const BENCH_APPLICATION_NAME = 'presence-bench';
/**
 * Checks in flight per worker: the project's setting (its default unless the environment sets it),
 * used as the baseline consumer's prefetch too, so both systems hold as many at once.
 */
export const MAX_CONCURRENT_CHECKS = loadConfig({
  OBJECT_SERVICE_MAX_CONCURRENCY: process.env.OBJECT_SERVICE_MAX_CONCURRENCY,
}).objectServiceMaxConcurrency;
/**
 * BENCH_PROFILE=1: each Node process writes a V8 CPU profile to PROFILE_DIR when it stops
 * (summarize with `node --import tsx bench/profile-summary.ts <file>`), and the results count the
 * Temporal server's requests (its metrics endpoint costs it some CPU, hence not always).
 */
const PROFILE = process.env.BENCH_PROFILE === '1';
export const PROFILE_DIR = path.join(__dirname, 'results', 'profiles');
/** The stack is thrown away after each scenario, so nothing needs a graceful drain, except a profile. */
const STOP_GRACE_MS = PROFILE ? 30_000 : 2_000;

/** The processes a system runs for one scenario, metered while it runs and stopped after it. */
export interface RunningStack {
  /** api, worker (the consumer for the baseline), server (Temporal or RabbitMQ), postgres. */
  groups: ProcessGroup[];
  /** The Temporal server's requests so far, under BENCH_PROFILE=1. */
  serverRequests?: () => Promise<ServerRequests>;
  /** The project's worker: how long sightings have waited for the status request that answers for them. */
  checkWait?: () => Promise<Histogram>;
  /** Part of it runs inside the bench process, so that process is one of `groups` already. */
  inBenchProcess?: boolean;
  stop(): Promise<void>;
}

/** A stack that takes callbacks and writes rows, as the product does. */
export interface RunningSystem extends RunningStack {
  callbackUrl: string;
  /** The database, as the bench's own connections should reach it. */
  benchDatabaseUrl: string;
  /** The project's Temporal dev server, which a scenario may kill and start again. */
  temporal?: BenchDevServer;
  /** With `StackOptions.faults`: what a scenario may kill or cut while the load runs. */
  faults?: StackFaults;
}

export interface StackFaults {
  /** Kills the process with SIGKILL, as a crash would, and starts it again at once; resolves once it is ready. */
  crashAndRestart(part: 'api' | 'worker'): Promise<void>;
  /** The database, reached through this proxy: cut, it refuses connections and drops the open ones. */
  database: TcpProxy;
}

export interface StackOptions {
  /** OBJECT_TTL_SECONDS: what the checks still write and the cleanup keeps, in both systems. */
  objectTtlSeconds: number;
  /** Run so that a scenario can crash parts and cut the database (`RunningSystem.faults`). */
  faults?: boolean;
}

export interface SystemUnderTest {
  readonly name: 'project' | 'project-before' | 'project-interval' | 'baseline';
  /** A fresh stack on an empty table; the object service is the scenario's. */
  start(objectServiceUrl: string, scenario: string, options: StackOptions): Promise<RunningSystem>;
  close(): Promise<void>;
}

/**
 * A system with its own database. Each scenario truncates the table and starts its processes
 * anew, so no scenario inherits another's backlog and each process's VmHWM is its scenario's peak.
 */
abstract class SystemWithDatabase implements SystemUnderTest {
  abstract readonly name: SystemUnderTest['name'];
  protected database!: TestDatabase;

  async open(): Promise<this> {
    this.database = await createTestDatabase('presence_bench');
    return this;
  }

  abstract start(objectServiceUrl: string, scenario: string, options: StackOptions): Promise<RunningSystem>;

  async close(): Promise<void> {
    await this.database?.drop();
  }

  protected get benchDatabaseUrl(): string {
    const url = new URL(this.database.url);
    url.searchParams.set('application_name', BENCH_APPLICATION_NAME);
    return url.toString();
  }

  /** Both databases have the project's migrations; only the project's API writes to the outbox. */
  protected async emptyTable(): Promise<void> {
    await withDatabase(this.benchDatabaseUrl, (db) => db.query('TRUNCATE objects, callback_outbox'));
  }

  /** The server processes behind this database's connections, except the bench's own. */
  protected postgresGroup(): ProcessGroup {
    const { name } = this.database;
    return {
      name: 'postgres',
      fresh: false,
      skipRss: true,
      pids: () =>
        withDatabase(this.benchDatabaseUrl, async (db) => {
          const { rows } = await db.query<{ pid: number }>(
            'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2',
            [name, BENCH_APPLICATION_NAME],
          );
          return rows.map((row) => row.pid);
        }),
    };
  }
}

/** This project as `npm start` runs it: an embedded dev server on SQLite, `node dist/...` processes. */
export class ProjectSystem extends SystemWithDatabase {
  private readonly taskQueue = 'presence-bench';

  /** `root`: the checkout whose `dist/` runs, so that two commits can take turns in one run; `settings`: more of its environment. */
  constructor(
    readonly name: 'project' | 'project-before' | 'project-interval' = 'project',
    private readonly root = PROJECT_ROOT,
    private readonly settings: Record<string, string> = {},
  ) {
    super();
  }

  async start(
    objectServiceUrl: string,
    scenario: string,
    { objectTtlSeconds, faults }: StackOptions,
  ): Promise<RunningSystem> {
    await this.emptyTable();
    const server = await startBenchDevServer();
    const port = await freePort();
    const workerHealthPort = await freePort();
    // Not the default 9464, which a running `npm start` holds.
    const workerMetricsPort = await freePort();
    const database = faults ? await proxyDatabase(this.database.url, await freePort()) : undefined;
    const env = {
      PORT: String(port),
      WORKER_HEALTH_PORT: String(workerHealthPort),
      WORKER_METRICS_PORT: String(workerMetricsPort),
      OBJECT_SERVICE_URL: objectServiceUrl,
      OBJECT_SERVICE_MAX_CONCURRENCY: String(MAX_CONCURRENT_CHECKS),
      DATABASE_URL: database?.url ?? this.database.url,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      LOG_LEVEL: 'warn',
      // An hour for most scenarios: with the default 30 s, a backlog older than the TTL is
      // (rightly) not written and the throughput scenario would wait forever; the cleanup
      // schedule still runs every 3 s. The fleet scenarios run with the product's 30 s.
      OBJECT_TTL_SECONDS: String(objectTtlSeconds),
      ...this.settings,
    };
    const parts = {
      worker: { script: 'dist/worker/main.js', readyz: `http://127.0.0.1:${workerHealthPort}/readyz`, starts: 0 },
      api: { script: 'dist/api/main.js', readyz: `http://127.0.0.1:${port}/readyz`, starts: 0 },
    };
    const spawnPart = (part: keyof typeof parts) =>
      spawnNode([parts[part].script], env, `${this.name}-${scenario}-${part}${parts[part].starts++ || ''}`, this.root);
    let worker = spawnPart('worker');
    let api = spawnPart('api');
    await Promise.all([waitForHttp(parts.worker.readyz), waitForHttp(parts.api.readyz)]);
    return {
      callbackUrl: `http://127.0.0.1:${port}/callback`,
      benchDatabaseUrl: this.benchDatabaseUrl,
      groups: [
        { name: 'api', fresh: true, threads: true, pids: () => [api.pid as number] },
        { name: 'worker', fresh: true, threads: true, pids: () => [worker.pid as number] },
        server.group,
        this.postgresGroup(),
      ],
      serverRequests: server.serverRequests,
      checkWait: () => readHistogram(`http://127.0.0.1:${workerMetricsPort}/metrics`, 'presence_check_wait_seconds'),
      temporal: server,
      faults: database && {
        database: database.proxy,
        crashAndRestart: async (part) => {
          const child = part === 'api' ? api : worker;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
          if (part === 'api') api = spawnPart('api');
          else worker = spawnPart('worker');
          await waitForHttp(parts[part].readyz);
        },
      },
      stop: async () => {
        await Promise.all([stopChild(api, STOP_GRACE_MS), stopChild(worker, STOP_GRACE_MS)]);
        await server.stop();
        await database?.proxy.cut();
      },
    };
  }
}

export interface BenchDevServer {
  address: string;
  /** The server process, as the group `server`. */
  group: ProcessGroup;
  /** Its requests so far, from its metrics endpoint under BENCH_PROFILE=1 (they restart from 0 with the server). */
  serverRequests?: () => Promise<ServerRequests>;
  /** Kills it with SIGKILL, as a crash would, and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and database file; resolves once it serves. */
  restart(): Promise<void>;
  /** Stops it and deletes its database file. */
  stop(): Promise<void>;
}

/**
 * A Temporal dev server as `npm start` runs it (startTemporalDevServer: a fresh SQLite file with
 * WAL), for one scenario; with a metrics endpoint under BENCH_PROFILE=1.
 */
export async function startBenchDevServer(): Promise<BenchDevServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'presence-bench-'));
  const metricsPort = PROFILE ? await freePort() : undefined;
  const options = {
    port: await freePort(),
    dbFilename: path.join(dataDir, 'temporal.sqlite'),
    logLevel: 'error',
    metricsPort,
  } as const;
  let server = await startTemporalDevServer(options);
  return {
    address: server.address,
    group: { name: 'server', fresh: true, pids: () => (server.process?.pid ? [server.process.pid] : []) },
    serverRequests: metricsPort ? () => readServerRequests(`http://127.0.0.1:${metricsPort}/metrics`) : undefined,
    kill: async () => {
      const child = server.process;
      if (!child) throw new Error('the dev server runs without a process of its own');
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      server = await startTemporalDevServer(options);
    },
    stop: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The queue-based baseline of bench/baseline/, on the RabbitMQ broker of this machine. */
export class BaselineSystem extends SystemWithDatabase {
  readonly name = 'baseline';
  private queues = 0;

  async start(objectServiceUrl: string, scenario: string, { objectTtlSeconds }: StackOptions): Promise<RunningSystem> {
    await this.emptyTable();
    const queue = `presence-bench-${process.pid}-${(this.queues += 1)}`;
    const port = await freePort();
    const env = {
      PORT: String(port),
      OBJECT_SERVICE_URL: objectServiceUrl,
      DATABASE_URL: this.database.url,
      AMQP_URL,
      BASELINE_QUEUE: queue,
      BASELINE_PREFETCH: String(MAX_CONCURRENT_CHECKS),
      OBJECT_TTL_SECONDS: String(objectTtlSeconds),
      LOG_LEVEL: 'warn',
    };
    await withAmqp((channel) => channel.assertQueue(queue, { durable: true }));
    const consumer = spawnNode(['--import', 'tsx', 'bench/baseline/consumer.ts'], env, `baseline-${scenario}-consumer`);
    const api = spawnNode(['--import', 'tsx', 'bench/baseline/api.ts'], env, `baseline-${scenario}-api`);
    await Promise.all([waitForConsumer(queue), waitForHttp(`http://127.0.0.1:${port}/healthz`)]);
    return {
      callbackUrl: `http://127.0.0.1:${port}/callback`,
      benchDatabaseUrl: this.benchDatabaseUrl,
      groups: [
        { name: 'api', fresh: true, threads: true, pids: () => [api.pid as number] },
        { name: 'worker', fresh: true, threads: true, pids: () => [consumer.pid as number] },
        // The broker is a shared system daemon: only its sampled RSS is this scenario's.
        { name: 'server', fresh: false, pids: () => pidsByName('beam.smp') },
        this.postgresGroup(),
      ],
      stop: async () => {
        await Promise.all([stopChild(api, STOP_GRACE_MS), stopChild(consumer, STOP_GRACE_MS)]);
        await withAmqp((channel) => channel.deleteQueue(queue));
      },
    };
  }
}

export async function brokerVersion(): Promise<string> {
  const connection = await connect(AMQP_URL);
  try {
    return String(connection.connection.serverProperties.version);
  } finally {
    await connection.close();
  }
}

/** Where the processes' own output goes: a 503 under load logs a stack trace per callback. */
export const LOG_DIR = path.join(__dirname, 'results', 'logs');

function spawnNode(args: string[], env: Record<string, string>, name: string, cwd = ROOT): ChildProcess {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(path.join(LOG_DIR, `${name}.log`), 'w');
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL')
      console.error(`bench: ${name} exited (${signal ?? code}); see ${LOG_DIR}`);
  });
  return child;
}

async function withDatabase<T>(url: string, fn: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url });
  db.on('error', () => undefined);
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

async function withAmqp<T>(fn: (channel: Channel) => Promise<T>): Promise<T> {
  const connection = await connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    // A failed operation also rejects its promise; without a listener the event would crash the bench.
    channel.on('error', () => undefined);
    return await fn(channel);
  } finally {
    await connection.close();
  }
}

function waitForHttp(url: string): Promise<true> {
  return eventually(async () => ((await fetch(url)).ok ? true : undefined), url, 60_000);
}

function waitForConsumer(queue: string): Promise<true> {
  return eventually(
    () => withAmqp(async (channel) => ((await channel.checkQueue(queue)).consumerCount > 0 ? true : undefined)),
    `a consumer on ${queue}`,
    60_000,
  );
}
