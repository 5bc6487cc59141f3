import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { applyMigrations } from '../../src/db/migrate';

/** The PostgreSQL server the tests and the bench create their databases on (`.ci/run` makes sure it runs). */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** One plain `pg` session on `url`, with no settings of its own, for as long as `fn` runs. */
export async function withSession<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const withAdmin = <T>(fn: (admin: Client) => Promise<T>): Promise<T> => withSession(ADMIN_URL, fn);

/**
 * The zone every test database gives its sessions: far from UTC, so that a time written or read
 * as if the session ran in UTC is off by hours. East of UTC, such a write lands in the past and the
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
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.query(`ALTER DATABASE ${name} SET timezone = '${TEST_DATABASE_TIME_ZONE}'`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await applyMigrations(url.toString());
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
