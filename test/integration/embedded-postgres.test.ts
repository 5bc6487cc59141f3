import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  EMBEDDED_DATABASE_USER,
  embeddedDatabasePasswordFile,
  embeddedDatabaseUrl,
  readEmbeddedDatabasePassword,
} from '../../src/defaults';
import { stopChild } from '../../dev/embedded/child-process';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../dev/embedded/embedded-postgres';
import { withConnection } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';

// The PostgreSQL that `npm start` embeds listens on loopback, where every local user can reach
// it: only its superuser's password keeps them from running SQL, and programs, as whoever ran
// `npm start`. So the password is random per data directory and readable by that user only.

const whoAmI = (url: string): Promise<string> =>
  withConnection(
    url,
    async (client) => (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]!.user,
  );

describe('the embedded PostgreSQL', () => {
  let dataDir: string;
  let passwordFile: string;
  let port: number;
  let database: EmbeddedPostgres | undefined;
  /** Every server started, stopped at the end even when a start failed after it was up. */
  const servers: ChildProcess[] = [];

  const start = async (): Promise<EmbeddedPostgres> => {
    database = await startEmbeddedPostgres(dataDir, port, (server) => servers.push(server));
    return database;
  };

  const assertRefused = async (password: string | undefined, as: string): Promise<void> => {
    // A server that trusted loopback would let this in without asking for any password.
    await assert.rejects(whoAmI(embeddedDatabaseUrl(password, port)), /password/, `${as} is refused`);
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'presence-embedded-postgres-'));
    // As root, the embedded PostgreSQL runs as the postgres user, who must reach its directory.
    chmodSync(dataDir, 0o755);
    passwordFile = embeddedDatabasePasswordFile(dataDir);
    port = await freePort();
  });

  after(async () => {
    for (const server of servers) await stopChild(server, 10_000);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has a random superuser password, in a file that only its user can read', async () => {
    const { url } = await start();
    const password = readEmbeddedDatabasePassword(dataDir);
    assert.notEqual(password, 'postgres');
    assert.match(password, /^[\w-]{32}$/, '24 random bytes, base64url');
    assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
    assert.equal(new URL(url).password, password);
    assert.equal(await whoAmI(url), EMBEDDED_DATABASE_USER);
  });

  it('refuses the password postgres, no password and a wrong one', async () => {
    const password = readEmbeddedDatabasePassword(dataDir);
    await assertRefused('postgres', 'the password postgres');
    await assertRefused(undefined, 'no password');
    await assertRefused(`${password}x`, 'a wrong password');
  });

  it('opens the same data directory again after a restart', async () => {
    await withConnection(database!.url, (client) => client.query('CREATE TABLE kept AS SELECT 1 AS one'));
    const password = readEmbeddedDatabasePassword(dataDir);
    await database!.stop();
    const { url } = await start();
    assert.equal(readEmbeddedDatabasePassword(dataDir), password, 'the password is kept');
    const { rows } = await withConnection(url, (client) => client.query('SELECT one FROM kept'));
    assert.deepEqual(rows, [{ one: 1 }]);
  });

  it('gives a data directory left with the password postgres and no password file a random password', async () => {
    await withConnection(database!.url, (client) =>
      client.query(`ALTER ROLE ${EMBEDDED_DATABASE_USER} PASSWORD 'postgres'`),
    );
    await database!.stop();
    rmSync(passwordFile);
    const { url } = await start();
    const password = readEmbeddedDatabasePassword(dataDir);
    assert.notEqual(password, 'postgres');
    assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
    await assertRefused('postgres', 'the password postgres');
    const { rows } = await withConnection(url, (client) => client.query('SELECT one FROM kept'));
    assert.deepEqual(rows, [{ one: 1 }], 'the data is kept');
  });
});
