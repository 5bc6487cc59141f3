import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { checkCallbackExposure, loadConfig, type Config } from '../src/config';
import { EMBEDDED_DATA_DIR, EMBEDDED_DATABASE_PORT, EMBEDDED_TEMPORAL_PORT, withoutPassword } from '../src/defaults';
import { applyMigrations } from '../src/db/migrate';
import { forkBuilt, stopChild } from './embedded/child-process';
import { startEmbeddedPostgres } from './embedded/embedded-postgres';
import { assertPortsFree, type PlannedPort } from './embedded/free-ports';
import { startReaper, type Reaper } from './embedded/reaper';
import { startTemporalDevServer } from './embedded/temporal-dev-server';
import { exitOnFatalError, onShutdownSignal } from '../src/lifecycle';
import { createLogger, type Logger } from '../src/logger';
import { eventually } from './support/wait';

const TEMPORAL_UI_PORT = 8233;
/** Longer than the worker's forced shutdown time (20 s), so it always stops on its own. */
const CHILD_GRACE_MS = 25_000;

/**
 * What has been started, stopped in reverse order: callers first, the services they need last.
 * Each part's process group is also handed to the reaper, which stops it if this process dies.
 */
class Parts {
  private readonly stops: Array<() => Promise<void>> = [];
  stopping = false;

  constructor(private readonly reaper: Reaper) {}

  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  /** Called as soon as a part's process exists, before it is ready: the starter may die meanwhile. */
  watch(child: ChildProcess): void {
    if (child.pid !== undefined) this.reaper.watch(child.pid);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const stop of this.stops.splice(0).reverse()) await stop();
    this.reaper.release();
  }
}

/** Every port this run will listen on, with the setting that avoids it. */
function plannedPorts(config: Config): PlannedPort[] {
  const ports: PlannedPort[] = [];
  if (!config.temporalAddress)
    ports.push(
      {
        port: EMBEDDED_TEMPORAL_PORT,
        part: 'the embedded Temporal server',
        remedy: 'set TEMPORAL_ADDRESS to use a Temporal server of your own',
      },
      {
        port: TEMPORAL_UI_PORT,
        part: "the embedded Temporal server's Web UI",
        remedy: 'set TEMPORAL_ADDRESS to use a Temporal server of your own',
      },
    );
  if (!config.databaseUrl)
    ports.push({
      port: EMBEDDED_DATABASE_PORT,
      part: 'the embedded PostgreSQL',
      remedy: 'set DATABASE_URL to use a database of your own',
    });
  ports.push(
    { port: config.port, part: 'the callback API', remedy: 'set PORT' },
    { port: config.workerHealthPort, part: "the worker's probes", remedy: 'set WORKER_HEALTH_PORT' },
    { port: config.workerMetricsPort, part: "the worker's metrics", remedy: 'set WORKER_METRICS_PORT' },
  );
  return ports;
}

async function startEmbeddedServices(
  config: Config,
  logger: Logger,
  parts: Parts,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await mkdir(EMBEDDED_DATA_DIR, { recursive: true });
  if (!config.temporalAddress) {
    const server = await startTemporalDevServer({
      port: EMBEDDED_TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
      dbFilename: path.join(EMBEDDED_DATA_DIR, 'temporal.sqlite'),
      namespace: config.temporalNamespace,
      // Its warnings are about its own internals (polls failing as it stops, for one).
      logLevel: 'error',
      log: (message) => logger.info(message),
      onSpawn: (child) => parts.watch(child),
    });
    parts.add(server.stop);
    env.TEMPORAL_ADDRESS = server.address;
    logger.info(
      { address: server.address, webUi: `http://127.0.0.1:${TEMPORAL_UI_PORT}` },
      'embedded Temporal dev server running',
    );
  }
  if (!config.databaseUrl) {
    const database = await startEmbeddedPostgres(EMBEDDED_DATA_DIR, EMBEDDED_DATABASE_PORT, (child) =>
      parts.watch(child),
    );
    parts.add(database.stop);
    env.DATABASE_URL = database.url;
    logger.info(
      { url: withoutPassword(database.url), passwordFile: database.passwordFile },
      'embedded PostgreSQL running',
    );
  }
}

function supervise(name: string, child: ChildProcess, logger: Logger, parts: Parts): void {
  parts.watch(child);
  parts.add(() => stopChild(child, CHILD_GRACE_MS));
  child.once('exit', (code, signal) => {
    if (parts.stopping) return;
    logger.fatal({ process: name, code, signal }, 'a part of the system stopped; shutting everything down');
    void parts.stopAll().finally(() => process.exit(1));
  });
}

/** How often the starter looks whether whoever started it (npm, a shell) is still there. */
const OWNER_CHECK_INTERVAL_MS = 1_000;

/**
 * The reaper covers this process's own death; this covers its owner's. When npm (which `exec`s
 * this script, so it is the parent) is killed, this process is re-parented: it then stops its
 * parts in order, as on Ctrl-C.
 */
function stopWhenOrphaned(): void {
  const owner = process.ppid;
  const check = setInterval(() => {
    if (process.ppid === owner) return;
    clearInterval(check);
    process.kill(process.pid, 'SIGTERM');
  }, OWNER_CHECK_INTERVAL_MS).unref();
}

/** `npm start`: the whole system on one machine, embedding whatever is not configured. */
async function main(): Promise<void> {
  const config = loadConfig();
  // It runs the API: refuse as the API would, before starting anything.
  checkCallbackExposure(config);
  const logger = createLogger(config.logLevel, 'start', config.logFormat);
  await assertPortsFree(plannedPorts(config));
  const parts = new Parts(startReaper());
  onShutdownSignal(logger, () => parts.stopAll());
  stopWhenOrphaned();
  const env: NodeJS.ProcessEnv = { ...process.env };
  try {
    await startEmbeddedServices(config, logger, parts, env);
    await applyMigrations(env.DATABASE_URL as string);
    supervise('worker', forkBuilt('worker/main', env), logger, parts);
    supervise('api', forkBuilt('api/main', env), logger, parts);
  } catch (error) {
    await parts.stopAll();
    throw error;
  }
  await announceWhenReady(config, logger, parts);
}

/** How long the API and the worker may take to say they are ready before the starter says so. */
const READY_TIMEOUT_MS = 120_000;

/** One line, once both parts answer their readiness probes: where to send callbacks and look. */
async function announceWhenReady(config: Config, logger: Logger, parts: Parts): Promise<void> {
  const local = (port: number, route = '') => `http://127.0.0.1:${port}${route}`;
  const probes = [local(config.port, '/readyz'), local(config.workerHealthPort, '/readyz')];
  try {
    await eventually(
      async () => {
        if (parts.stopping) throw new Error('stopping');
        const answers = await Promise.all(probes.map((probe) => fetch(probe).then((response) => response.ok)));
        return answers.every(Boolean) || undefined;
      },
      'the API and the worker to be ready',
      READY_TIMEOUT_MS,
    );
  } catch (error) {
    if (!parts.stopping) logger.warn({ err: error }, 'not ready yet; the lines above say why');
    return;
  }
  logger.info(
    {
      callback: local(config.port, '/callback'),
      apiDocs: local(config.port, '/docs'),
      ...(!config.temporalAddress && { temporalWebUi: local(TEMPORAL_UI_PORT) }),
      rows: 'npm run studio',
    },
    'presence tracker ready',
  );
}

main().catch(exitOnFatalError(createLogger('info', 'start')));
