import { mkdir } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { forkHarnessModule, stopChild, waitForMessage } from './child-process';

export interface EmbeddedPostgres {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** PGlite (PostgreSQL compiled to WebAssembly) behind a wire-protocol socket, persisted in `dataDir`. */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const child = forkHarnessModule('embedded/pglite-server', {
    ...process.env,
    PGLITE_DATA_DIR: dataDir,
    PGLITE_PORT: String(port),
  });
  await waitForMessage(child, 'ready');
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    process: child,
    stop: () => stopChild(child, 10_000),
  };
}
