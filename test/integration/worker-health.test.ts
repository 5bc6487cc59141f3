import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { loadConfig } from '../../src/config';
import { createWorkerProcess, type WorkerProcess } from '../../src/worker/worker-process';
import { createTestDatabase, withConnection, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { proxyDatabase, type TcpProxy } from '../../dev/support/tcp-proxy';
import { eventually } from '../../dev/support/wait';

interface Readiness {
  status: number;
  body: { status: string; worker: string; database: boolean; handOut?: { backlogIds: number; lagSeconds: number } };
}

// A worker's checks get 10 s at a stop, and it is gone within 20 s (docs/guarantees.md).
const STOPPED_WITHIN_MS = 20_000;

/** An idle worker's hand-outs: none waiting. */
const NO_BACKLOG = { backlogIds: 0, lagSeconds: 0 };
const READY = { status: 'ready', worker: 'RUNNING', database: true, handOut: NO_BACKLOG };

describe("the worker's probes, on a real Temporal server and PostgreSQL", () => {
  let server: DevServer;
  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let worker: WorkerProcess;
  let running: Promise<void>;
  let healthUrl: string;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    [server, database] = await Promise.all([
      startTemporalDevServer({ port: await freePort(), logLevel: 'error' }),
      createTestDatabase(),
    ]);
    const proxied = await proxyDatabase(database.url, await freePort());
    proxy = proxied.proxy;
    proxiedUrl = proxied.url;
    const healthPort = await freePort();
    healthUrl = `http://127.0.0.1:${healthPort}`;
    // The worker reaches the database only through the proxy, which the test cuts.
    worker = await createWorkerProcess(
      loadConfig({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: `presence-health-${process.pid}`,
        DATABASE_URL: proxiedUrl,
        OBJECT_SERVICE_URL: 'http://127.0.0.1:1',
        WORKER_HEALTH_PORT: String(healthPort),
        LOG_LEVEL: 'silent',
      }),
    );
  });
  after(async () => {
    await worker?.shutdown();
    await proxy?.cut();
    await server?.stop();
    await database?.drop();
  });

  const readiness = async (): Promise<Readiness> => {
    const response = await fetch(`${healthUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  };
  const readinessBecomes = (status: number, what: string) =>
    eventually(async () => {
      const answer = await readiness();
      return answer.status === status ? answer : undefined;
    }, what);

  it('is live, and not ready until the worker runs', async () => {
    assert.equal((await fetch(`${healthUrl}/healthz`)).status, 200);
    assert.deepEqual(await readiness(), {
      status: 503,
      body: { status: 'unavailable', worker: 'INITIALIZED', database: true, handOut: NO_BACKLOG },
    });
  });

  it('answers ready once the worker runs', async () => {
    running = worker.run();
    assert.deepEqual((await readinessBecomes(200, 'the worker to be ready')).body, READY);
  });

  it('answers 503 while the database is away, and ready again once it is back', async () => {
    await proxy.cut();
    assert.deepEqual((await readinessBecomes(503, 'the worker to notice the database is away')).body, {
      status: 'unavailable',
      worker: 'RUNNING',
      database: false,
      handOut: NO_BACKLOG,
    });
    assert.equal((await fetch(`${healthUrl}/healthz`)).status, 200, 'still live');
    await proxy.open();
    assert.deepEqual((await readinessBecomes(200, 'the worker to be ready again')).body, READY);
  });

  it('releases everything when shut down before it ran', async () => {
    const healthPort = await freePort();
    const idle = await createWorkerProcess(
      loadConfig({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: `presence-health-idle-${process.pid}`,
        DATABASE_URL: database.url,
        WORKER_HEALTH_PORT: String(healthPort),
        LOG_LEVEL: 'silent',
      }),
      { cleanupSchedule: false },
    );
    assert.equal((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status, 200);
    await idle.shutdown();
    await assert.rejects(fetch(`http://127.0.0.1:${healthPort}/healthz`));
  });

  it('stops answering once the worker is shut down and everything is released', async () => {
    await worker.shutdown();
    await running;
    await assert.rejects(fetch(`${healthUrl}/healthz`));
  });

  it('stops within its 20 s after the database broke while its outbox relay held a transaction', async () => {
    // Callbacks taken while Temporal was away: the relay starts them in batches, each batch in one
    // transaction that holds its rows while the starts go out. The pool never gets back a
    // connection that broke under such a transaction.
    await withConnection(database.url, (connection) =>
      connection.query(`INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
        SELECT 'callback-outbox-' || i, ARRAY[i], now() FROM generate_series(1, 600) AS i`),
    );
    const relaying = await createWorkerProcess(
      loadConfig({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: `presence-health-relay-${process.pid}`,
        DATABASE_URL: proxiedUrl,
        OBJECT_SERVICE_URL: 'http://127.0.0.1:1',
        WORKER_HEALTH_PORT: String(await freePort()),
        LOG_LEVEL: 'silent',
      }),
    );
    const relayingRun = relaying.run();
    await sleep(800);
    await proxy.cut();
    await sleep(1_000);
    await proxy.open();
    await sleep(1_500);
    const stoppingAt = Date.now();
    const stopped = await Promise.race([
      relaying.shutdown().then(() => relayingRun),
      sleep(STOPPED_WITHIN_MS).then(() => 'still running'),
    ]);
    assert.notEqual(stopped, 'still running', `still running ${STOPPED_WITHIN_MS} ms after the stop`);
    assert.ok(Date.now() - stoppingAt < STOPPED_WITHIN_MS);
  });
});
