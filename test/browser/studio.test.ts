import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import type { Browser } from 'playwright-core';
import { launchChromium, saveScreenshot } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { eventually } from '../support/wait';

// `npm run studio` in headless Chromium (Debian's `chromium`; CHROMIUM_PATH, else `which chromium`):
// the page must show the rows of `objects` without fetching anything from another host.

const projectRoot = path.join(__dirname, '..', '..');
const ids = [101, 4242, 90210];

let database: TestDatabase;
let studio: ChildProcess;
let studioUrl: string;
let browser: Browser;

before(async () => {
  database = await createTestDatabase();
  const client = new Client({ connectionString: database.url });
  await client.connect();
  await client.query(`INSERT INTO objects (id, last_seen) SELECT unnest($1::int[]), now()`, [ids]);
  await client.end();

  const port = await freePort();
  // What `npm run studio` runs, started directly: npm would not pass the SIGTERM of `after` on.
  studio = spawn(process.execPath, ['--import', 'tsx', 'scripts/studio.ts', '--port', String(port)], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: database.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [studio.stdout!, studio.stderr!])
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  studioUrl = await eventually(
    async () => {
      if (studio.exitCode !== null) throw new Error(`studio exited early:\n${lines.join('\n')}`);
      return lines.map((line) => /is running at (http\S+)/.exec(line)?.[1]).find(Boolean);
    },
    'studio to start',
    60_000,
  );

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (studio && studio.exitCode === null) {
    const exited = new Promise((resolve) => studio.once('exit', resolve));
    studio.kill('SIGTERM');
    setTimeout(() => studio.kill('SIGKILL'), 5_000).unref();
    await exited;
  }
  await database?.drop();
});

test('npm run studio shows the rows of objects, loading nothing from another host', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const foreign: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== new URL(studioUrl).origin && !request.url().startsWith('data:'))
      foreign.push(request.url());
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await page.goto(studioUrl);
  await page.getByText('objects', { exact: true }).click();
  await page.getByText('last_seen', { exact: true }).waitFor();
  for (const id of ids) await page.getByText(String(id), { exact: true }).waitFor();

  await saveScreenshot(page, 'studio-objects');
  assert.deepEqual(foreign, []);
  assert.deepEqual(pageErrors, []);
});
