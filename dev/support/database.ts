import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { applyMigrations } from '../../src/db/migrate';
import { eventually } from './wait';

/** The PostgreSQL server the tests and the bench create their databases on (`.ci/run` makes sure it runs). */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** One plain `pg` connection on `url`, with no settings of its own, for as long as `fn` runs. */
export async function withConnection<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const withAdmin = <T>(fn: (admin: Client) => Promise<T>): Promise<T> => withConnection(ADMIN_URL, fn);

/**
 * The zone every test database gives its connections: far from UTC, so that a time written or read
 * as if the connection ran in UTC is off by hours. East of UTC, such a write lands in the past and the
 * TTL guard refuses it: rows go missing and every test that expects one fails. Nine hours all year
 * (no daylight saving), more than any TTL a test or the bench uses.
 */
const TEST_DATABASE_TIME_ZONE = 'Asia/Tokyo';

/**
 * A new database with every migration applied, dropped again by `drop()`. The bench gives its own
 * prefix: on a shared machine, leftover presence_test_* databases get swept, and a sweep that hits
 * a running bench would end it.
 */
export async function createTestDatabase(prefix = 'presence_test'): Promise<TestDatabase> {
  const template = await migratedTemplate();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    await admin.query(`ALTER DATABASE ${name} SET timezone = '${TEST_DATABASE_TIME_ZONE}'`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

const migrationsDir = path.join(__dirname, '..', '..', 'prisma', 'migrations');

/**
 * A database that `prisma migrate deploy` brought up to these migrations, named after them: each
 * test database is a copy of it, made in a fraction of a second where the CLI takes seconds.
 * Built under a name of its own and renamed when complete, so a run cut short leaves no half.
 */
async function migratedTemplate(): Promise<string> {
  const name = `presence_template_${(await migrationsDigest()).slice(0, 16)}`;
  const exists = (admin: Client) =>
    admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]).then(({ rowCount }) => rowCount === 1);
  if (await withAdmin(exists)) return name;
  const building = `${name}_${randomBytes(4).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${building}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${building}`;
  await applyMigrations(url.toString());
  // The migration's connections may take a moment to end after their clients let go.
  await eventually(
    () =>
      withAdmin(async (admin) => {
        if (await exists(admin)) await admin.query(`DROP DATABASE ${building} WITH (FORCE)`);
        else await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
        return true;
      }),
    `the migrated template ${name}`,
  );
  return name;
}

async function migrationsDigest(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(migrationsDir, { recursive: true, withFileTypes: true })).filter((entry) =>
    entry.isFile(),
  );
  for (const file of files.map((entry) => path.join(entry.parentPath, entry.name)).sort()) {
    hash
      .update(path.relative(migrationsDir, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex');
}
