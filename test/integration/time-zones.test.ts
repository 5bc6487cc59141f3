import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client } from 'pg';
import { CallbackOutbox } from '../../src/db/callback-outbox';
import { ObjectsRepository } from '../../src/db/objects-repository';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { utcConnections } from '../../src/db/utc-connections';
import type { AcceptedCallback } from '../../src/workflows';
import { ADMIN_URL, createTestDatabase, withConnection, type TestDatabase } from '../../dev/support/database';

// Times are instants whatever zone the database, the role or the process runs in. Every value is
// read back with plain `pg` too, which parses the offset PostgreSQL sends: a read through Prisma
// alone could undo a write's error with the same error.

const TTL_SECONDS = 30;
const secondsAgo = (seconds: number): Date => new Date(Date.now() - seconds * 1000);

/** Where the zone is set: for the whole database, or for this role in this database, which wins over it. */
const zones: Array<{ zone: string; setBy: 'database' | 'role' }> = [
  { zone: 'Europe/Berlin', setBy: 'database' },
  { zone: 'America/New_York', setBy: 'database' },
  { zone: 'Asia/Tokyo', setBy: 'database' },
  { zone: 'Asia/Kolkata', setBy: 'role' },
];

describe('times are instants whatever the zone', () => {
  let database: TestDatabase;
  /** Plain `pg`: it parses the offset PostgreSQL sends, whatever its connection's zone. */
  let plain: Client;

  before(async () => {
    database = await createTestDatabase();
    plain = new Client({ connectionString: database.url });
    await plain.connect();
  });
  after(async () => {
    await plain?.end();
    await database?.drop();
  });

  const lastSeen = async (): Promise<Map<number, number>> => {
    const { rows } = await plain.query<{ id: number; last_seen: Date }>('SELECT id, last_seen FROM objects');
    return new Map(rows.map(({ id, last_seen }) => [id, last_seen.getTime()]));
  };

  it('runs every test database east of UTC by more than the longest TTL a test uses (an hour)', async () => {
    const { rows } = await withConnection(database.url, (client) =>
      client.query<{ offset: string }>('SELECT extract(timezone FROM now()) AS offset'),
    );
    assert.ok(Number(rows[0]?.offset) > 3600, `a new test database's connections run at UTC+${rows[0]?.offset} s`);
  });

  it(
    'runs the tests, and the processes they start, west of UTC under npm test',
    { skip: !process.env.npm_lifecycle_event?.startsWith('test') && 'not run by a test script of package.json' },
    () => {
      const childOffset = execFileSync(process.execPath, ['-p', 'new Date().getTimezoneOffset()'], {
        encoding: 'utf8',
      });
      assert.ok(new Date().getTimezoneOffset() > 0, `TZ=${process.env.TZ}`);
      assert.ok(Number(childOffset) > 0, `a child process's offset: ${childOffset}`);
    },
  );

  for (const { zone, setBy } of zones) {
    describe(`with ${zone} as the ${setBy}'s zone`, () => {
      let db: Database;
      let objects: ObjectsRepository;

      before(async () => {
        const alter =
          setBy === 'database' ? `DATABASE ${database.name}` : `ROLE CURRENT_USER IN DATABASE ${database.name}`;
        await plain.query(`ALTER ${alter} SET timezone = '${zone}'`);
        // A new pool: its connections start after the change.
        db = connectDatabase(database.url);
        objects = new ObjectsRepository(db);
      });
      after(() => db?.$disconnect());
      beforeEach(() => plain.query('DELETE FROM objects; DELETE FROM callback_outbox'));

      it(`gives connections without a zone of their own ${zone}`, async () => {
        const { rows } = await withConnection(database.url, (client) =>
          client.query<{ TimeZone: string }>('SHOW TimeZone'),
        );
        assert.equal(rows[0]?.TimeZone, zone);
      });

      it('writes the instant recordSeen is given, as PostgreSQL and Prisma read it', async () => {
        const seenAt = new Date();
        assert.equal(await objects.recordSeen(1, seenAt, TTL_SECONDS), true);
        assert.deepEqual(await lastSeen(), new Map([[1, seenAt.getTime()]]));
        const row = await db.trackedObject.findUniqueOrThrow({ where: { id: 1 } });
        assert.equal(row.lastSeen.getTime(), seenAt.getTime());
      });

      it('refuses a sighting older than the TTL and accepts one just within it', async () => {
        const within = secondsAgo(TTL_SECONDS - 1);
        assert.equal(await objects.recordSeen(1, secondsAgo(TTL_SECONDS + 1), TTL_SECONDS), false);
        assert.equal(await objects.recordSeen(2, within, TTL_SECONDS), true);
        assert.deepEqual(await lastSeen(), new Map([[2, within.getTime()]]));
      });

      it('deletes exactly the rows older than the TTL', async () => {
        const fresh = new Date();
        assert.equal(await objects.recordSeen(1, secondsAgo(10), TTL_SECONDS), true);
        assert.equal(await objects.recordSeen(2, fresh, TTL_SECONDS), true);
        assert.equal(await objects.deleteExpired(5), 1);
        assert.deepEqual(await lastSeen(), new Map([[2, fresh.getTime()]]));
      });

      it('hands a callback out of the outbox with the receipt time it was added with', async () => {
        const outbox = new CallbackOutbox(db);
        const callback: AcceptedCallback = {
          workflowId: `callback-${setBy}-${zone}`,
          objectIds: [1, 2],
          receivedAtMs: Date.now(),
        };
        await outbox.add(callback);
        const { rows } = await plain.query<{ received_at: Date }>('SELECT received_at FROM callback_outbox');
        assert.deepEqual(
          rows.map((row) => row.received_at.getTime()),
          [callback.receivedAtMs],
        );
        const relayed: AcceptedCallback[] = [];
        const { started } = await outbox.relay(10, async (handedOut) => void relayed.push(handedOut), TTL_SECONDS);
        assert.equal(started, 1);
        assert.deepEqual(relayed, [callback]);
      });
    });
  }
});

describe('utcConnections', () => {
  /** A URL with options of its own, as a deployment may give: connection settings, so any database will do. */
  const urlWithSearchPath = (): string => {
    const url = new URL(ADMIN_URL);
    url.searchParams.set('options', '-c search_path=presence,public');
    return url.toString();
  };

  it("keeps the URL's options and runs the connection in UTC, with pg", async () => {
    const client = new Client(utcConnections(urlWithSearchPath()));
    await client.connect();
    try {
      const { rows } = await client.query<{ search_path: string; zone: string }>(
        "SELECT current_setting('search_path') AS search_path, current_setting('TimeZone') AS zone",
      );
      assert.deepEqual(rows, [{ search_path: 'presence,public', zone: 'UTC' }]);
    } finally {
      await client.end();
    }
  });

  it("keeps the URL's options and runs the connection in UTC, with the service's Prisma client", async () => {
    const db = connectDatabase(urlWithSearchPath(), 1);
    try {
      const rows = await db.$queryRaw<Array<{ search_path: string; zone: string }>>`
        SELECT current_setting('search_path') AS search_path, current_setting('TimeZone') AS zone`;
      assert.deepEqual(rows, [{ search_path: 'presence,public', zone: 'UTC' }]);
    } finally {
      await db.$disconnect();
    }
  });
});
