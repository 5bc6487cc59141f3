import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { startStudio, viewObjectsInStudio, type RunningStudio } from '../support/studio';

// `npm run studio` on a configured DATABASE_URL, in headless Chromium (Debian's `chromium`;
// CHROMIUM_PATH, else `which chromium`): the page must show the rows of `objects` without fetching
// anything from another host. The embedded default is covered by test/faults/default-path.test.ts.

const ids = [101, 4242, 90210];

let database: TestDatabase;
let studio: RunningStudio;
let browser: Browser;

before(async () => {
  database = await createTestDatabase();
  const client = new Client({ connectionString: database.url });
  await client.connect();
  await client.query(`INSERT INTO objects (id, last_seen) SELECT unnest($1::int[]), now()`, [ids]);
  await client.end();
  studio = await startStudio({ ...process.env, DATABASE_URL: database.url });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await studio?.stop();
  await database?.drop();
});

test('npm run studio shows the rows of objects, loading nothing from another host', async () => {
  const report = await viewObjectsInStudio(browser, studio.url, ids, 'studio-objects');
  assert.deepEqual(report, { foreign: [], pageErrors: [] });
});
