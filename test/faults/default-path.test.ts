import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Connection, WorkflowClient } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import {
  EMBEDDED_DATABASE_PORT,
  EMBEDDED_TEMPORAL_ADDRESS,
  EMBEDDED_TEMPORAL_PORT,
  embeddedDatabasePasswordFile,
  embeddedDatabaseUrl,
  readEmbeddedDatabasePassword,
} from '../../src/defaults';
import { objectWorkflowId } from '../../src/workflows';
import { bindable } from '../../dev/embedded/free-ports';
import { launchChromium } from '../support/browser';
import { groupAlive, killGroup, readyOn, runNpmStart, type StartedSystem } from '../support/npm-start';
import { withConnection } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { startStudio, viewObjectsInStudio } from '../support/studio';
import { eventually } from '../../dev/support/wait';

// What a newcomer runs: `npm start` with neither DATABASE_URL nor TEMPORAL_ADDRESS, so it embeds
// a Temporal dev server and a real PostgreSQL, and `npm run studio` with no settings at all.
// Only the data directory is the test's own, so a developer's .data/ is left alone. And the
// newcomer is not in UTC: the embedded PostgreSQL takes their zone when it is first set up.

/** East of UTC by more than the TTL below: rows written as if the database ran in UTC would be refused. */
const NEWCOMER_TIME_ZONE = 'Europe/Berlin';

const ids = [7, 77, 777];
const TEMPORAL_UI_PORT = 8233;

/** Processes whose command line names `text` (here: the test's data directory). */
function processesNaming(text: string): string[] {
  const output = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return output.split('\n').filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The embedded database of `dataDir`, with the password `npm start` made for it. */
const embeddedUrl = (dataDir: string): string => embeddedDatabaseUrl(readEmbeddedDatabasePassword(dataDir));

async function embeddedRows(dataDir: string): Promise<Map<number, Date>> {
  const { rows } = await withConnection(embeddedUrl(dataDir), (client) =>
    client.query<{ id: number; last_seen: Date }>('SELECT id, last_seen FROM objects'),
  );
  return new Map(rows.map(({ id, last_seen }) => [id, last_seen]));
}

describe('npm start with nothing set', () => {
  let dataDir: string;
  let objectService: StubObjectService;
  let env: NodeJS.ProcessEnv;
  let apiPort: number;
  let system: StartedSystem | undefined;
  let browser: Browser;
  /** The rows as the first run left them. */
  let recorded: Map<number, Date>;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'presence-default-path-'));
    // As root, the embedded PostgreSQL runs as the postgres user, who must reach its directory.
    chmodSync(dataDir, 0o755);
    objectService = await startStubObjectService((id, _attempt, response) =>
      answer(response, 200, { id, online: true }),
    );
    apiPort = await freePort();
    env = { ...process.env, EMBEDDED_DATA_DIR: dataDir, OBJECT_SERVICE_URL: objectService.url, LOG_LEVEL: 'info' };
    for (const name of Object.keys(env)) if (name === 'DATABASE_URL' || name.startsWith('TEMPORAL_')) delete env[name];
    // The API and the worker's ports are the only defaults moved, so a running `npm start` does not fail the test.
    Object.assign(env, {
      PORT: String(apiPort),
      WORKER_METRICS_PORT: String(await freePort()),
      WORKER_HEALTH_PORT: String(await freePort()),
      // Rows must outlive the restart below.
      OBJECT_TTL_SECONDS: '600',
      TZ: NEWCOMER_TIME_ZONE,
    });
    browser = await launchChromium();
  });

  after(async () => {
    if (system) killGroup(system);
    await browser?.close();
    await objectService?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records callbacks in the embedded database, which Studio shows with no settings', async () => {
    system = runNpmStart(env);
    await readyOn(system, apiPort);
    // JSON lines, as in any pipe: the one line that says where to go next.
    const started = system;
    const ready = await eventually(
      async () => started.lines.map(parseJson).find((line) => line?.msg === 'presence tracker ready'),
      'the starter to say it is ready',
      60_000,
    );
    assert.equal(ready.callback, `http://127.0.0.1:${apiPort}/callback`);
    assert.equal(ready.apiDocs, `http://127.0.0.1:${apiPort}/docs`);
    assert.equal(ready.temporalWebUi, `http://127.0.0.1:${TEMPORAL_UI_PORT}`);
    // Any local user reaches the server: its superuser password is random, this user's only, and never printed.
    const password = readEmbeddedDatabasePassword(dataDir);
    assert.notEqual(password, 'postgres');
    assert.equal(statSync(embeddedDatabasePasswordFile(dataDir)).mode & 0o777, 0o600);
    assert.ok(!started.lines.some((line) => line.includes(password)), 'npm start does not print the password');
    await assert.rejects(
      withConnection(embeddedDatabaseUrl('postgres'), (client) => client.query('SELECT 1')),
      /password/,
    );
    // A plain connection, which sets no zone: the server's own.
    const { rows: zone } = await withConnection(embeddedUrl(dataDir), (client) =>
      client.query<{ TimeZone: string }>('SHOW TimeZone'),
    );
    assert.deepEqual(zone, [{ TimeZone: NEWCOMER_TIME_ZONE }], 'the embedded server runs in the zone it was set up in');
    const sentAt = Date.now();
    const callback = await fetch(`http://127.0.0.1:${apiPort}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object_ids: ids }),
    });
    const answeredAt = Date.now();
    assert.equal(callback.status, 202);
    recorded = await eventually(
      async () => {
        const rows = await embeddedRows(dataDir);
        return rows.size === ids.length ? rows : undefined;
      },
      'the rows',
      60_000,
    );
    for (const [id, lastSeen] of recorded) {
      const receivedAt = lastSeen.getTime();
      assert.ok(receivedAt >= sentAt && receivedAt <= answeredAt, `last_seen of ${id} is the receipt time`);
    }
    // The worker's own histograms reach its metrics endpoint, in seconds: one write per id. Its
    // gauges appear with their first report, a second after the worker starts.
    const workerMetrics = await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`)).text();
      return text.includes('presence_object_service_requests') ? text : undefined;
    }, "the worker's gauges");
    assert.match(workerMetrics, /^presence_row_delay_seconds_count 3$/m);
    assert.match(workerMetrics, /^presence_check_wait_seconds_bucket\{le="0\.5"\} \d+$/m);
    assert.match(workerMetrics, /^presence_object_service_requests \d+$/m);

    // Studio finds the password where `npm start` keeps it.
    const studioEnv: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_DATA_DIR: dataDir };
    delete studioEnv.DATABASE_URL;
    const studio = await startStudio(studioEnv);
    try {
      const report = await viewObjectsInStudio(browser, studio.url, ids, 'studio-embedded-database');
      assert.deepEqual(report, { foreign: [], pageErrors: [] });
    } finally {
      await studio.stop();
    }
  });

  it('leaves no process and no taken port within 10 s of a kill -9 of the starter', async () => {
    assert.ok(system, 'started by the test before');
    process.kill(system.process.pid as number, 'SIGKILL');
    const ports = [EMBEDDED_TEMPORAL_PORT, TEMPORAL_UI_PORT, EMBEDDED_DATABASE_PORT, apiPort];
    ports.push(Number(env.WORKER_METRICS_PORT), Number(env.WORKER_HEALTH_PORT));
    await eventually(
      async () => {
        const taken = [];
        for (const port of ports) if (!(await bindable(port))) taken.push(port);
        const left = processesNaming(dataDir);
        return taken.length === 0 && left.length === 0 && !groupAlive(system!.groupId) ? true : undefined;
      },
      'every part to stop and free its port',
      10_000,
    );
  });

  it('keeps the rows and the workflow history across a restart', async () => {
    system = runNpmStart(env);
    await readyOn(system, apiPort);
    // Opened with the password the first run made.
    assert.deepEqual(await embeddedRows(dataDir), recorded);
    const connection = await Connection.connect({ address: EMBEDDED_TEMPORAL_ADDRESS });
    try {
      const description = await new WorkflowClient({ connection }).getHandle(objectWorkflowId(ids[0]!)).describe();
      assert.equal(description.type, 'objectPresenceWorkflow');
    } finally {
      await connection.close();
    }
    process.kill(-system.groupId, 'SIGINT');
    assert.equal(await system.exited, 0, system.tail());
  });
});
