import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { EMBEDDED_DATABASE_PORT, EMBEDDED_TEMPORAL_PORT, loadConfig, type Config } from '../src/config';
import { applyMigrations } from '../src/db/migrate';
import { forkBuilt, stopChild } from './embedded/child-process';
import { startEmbeddedPostgres } from './embedded/embedded-postgres';
import { startTemporalDevServer } from './embedded/temporal-dev-server';
import { exitOnFatalError, onShutdownSignal } from '../src/lifecycle';
import { createLogger, type Logger } from '../src/logger';

const DATA_DIR = path.join(__dirname, '..', '.data');
const TEMPORAL_UI_PORT = 8233;
/** Longer than the worker's forced shutdown time (20 s), so it always stops on its own. */
const CHILD_GRACE_MS = 25_000;

/** What has been started, stopped in reverse order: callers first, the services they need last. */
class Parts {
  private readonly stops: Array<() => Promise<void>> = [];
  stopping = false;

  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const stop of this.stops.splice(0).reverse()) await stop();
  }
}

async function startEmbeddedServices(
  config: Config,
  logger: Logger,
  parts: Parts,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await mkdir(DATA_DIR, { recursive: true });
  if (!config.temporalAddress) {
    const server = await startTemporalDevServer({
      port: EMBEDDED_TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
      dbFilename: path.join(DATA_DIR, 'temporal.sqlite'),
      namespace: config.temporalNamespace,
      log: (message) => logger.info(message),
    });
    parts.add(server.stop);
    env.TEMPORAL_ADDRESS = server.address;
    logger.info(
      { address: server.address, webUi: `http://127.0.0.1:${TEMPORAL_UI_PORT}` },
      'embedded Temporal dev server running',
    );
  }
  if (!config.databaseUrl) {
    const database = await startEmbeddedPostgres(path.join(DATA_DIR, 'pglite'), EMBEDDED_DATABASE_PORT);
    parts.add(database.stop);
    env.DATABASE_URL = database.url;
    logger.info({ url: database.url }, 'embedded PostgreSQL (PGlite) running');
  }
}

function supervise(name: string, child: ChildProcess, logger: Logger, parts: Parts): void {
  parts.add(() => stopChild(child, CHILD_GRACE_MS));
  child.once('exit', (code, signal) => {
    if (parts.stopping) return;
    logger.fatal({ process: name, code, signal }, 'a part of the system stopped; shutting everything down');
    void parts.stopAll().finally(() => process.exit(1));
  });
}

/** `npm start`: the whole system on one machine, embedding whatever is not configured. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'start');
  const parts = new Parts();
  onShutdownSignal(logger, () => parts.stopAll());
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
  logger.info({ callback: `http://127.0.0.1:${config.port}/callback` }, 'presence tracker starting');
}

main().catch(exitOnFatalError(createLogger('info', 'start')));
