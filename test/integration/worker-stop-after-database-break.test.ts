import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Client } from 'pg';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { loadConfig } from '../../src/config';
import { createWorkerProcess } from '../../src/worker/worker-process';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { proxyDatabase, type TcpProxy } from '../../dev/support/tcp-proxy';

// A worker's checks get 10 s at a stop, and it is gone within 20 s (docs/guarantees.md).
const STOPPED_WITHIN_MS = 20_000;

describe('a worker stopped after the database broke while its outbox relay held a transaction', () => {
  let server: DevServer;
  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxiedUrl: string;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    [server, database] = await Promise.all([
      startTemporalDevServer({ port: await freePort(), logLevel: 'error' }),
      createTestDatabase(),
    ]);
    ({ proxy, url: proxiedUrl } = await proxyDatabase(database.url, await freePort()));
  });
  after(async () => {
    await proxy?.cut();
    await server?.stop();
    await database?.drop();
  });

  it('releases everything within its 20 s, though the pool never got that connection back', async () => {
    // Callbacks taken while Temporal was away: the relay starts them in batches, each batch in one
    // transaction that holds its rows while the starts go out.
    const direct = new Client({ connectionString: database.url });
    await direct.connect();
    await direct.query(`INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
      SELECT 'callback-outbox-' || i, ARRAY[i], now() FROM generate_series(1, 600) AS i`);
    await direct.end();
    const worker = await createWorkerProcess(
      loadConfig({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: `presence-break-${process.pid}`,
        DATABASE_URL: proxiedUrl,
        OBJECT_SERVICE_URL: 'http://127.0.0.1:1',
        WORKER_HEALTH_PORT: String(await freePort()),
        LOG_LEVEL: 'silent',
      }),
    );
    const running = worker.run();
    await sleep(800);
    await proxy.cut();
    await sleep(1_000);
    await proxy.open();
    await sleep(1_500);
    const stoppingAt = Date.now();
    const stopped = await Promise.race([
      worker.shutdown().then(() => running),
      sleep(STOPPED_WITHIN_MS).then(() => 'still running'),
    ]);
    assert.notEqual(stopped, 'still running', `still running ${STOPPED_WITHIN_MS} ms after the stop`);
    assert.ok(Date.now() - stoppingAt < STOPPED_WITHIN_MS);
  });
});
