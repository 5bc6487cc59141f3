import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import type { HandOutBacklog } from '../../src/activities/sighting-dispatcher';
import { connectDatabase, isDatabaseReachable } from '../../src/db/prisma';
import { startWorkerHealth, type WorkerHealthState } from '../../src/worker/health';
import { freePort } from '../../dev/support/ports';

describe('worker probes', () => {
  let state: WorkerHealthState;
  let database: () => Promise<boolean>;
  let backlog: HandOutBacklog | undefined;
  const lines: string[] = [];
  let base: string;
  let health: { close: () => Promise<void> };

  before(async () => {
    const port = await freePort();
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    health = await startWorkerHealth({
      port,
      host: '127.0.0.1',
      logger,
      workerState: () => state,
      isDatabaseReachable: () => database(),
      handOutBacklog: () => backlog,
    });
    base = `http://127.0.0.1:${port}`;
  });
  after(() => health.close());
  beforeEach(() => {
    state = 'RUNNING';
    database = async () => true;
    backlog = undefined;
  });

  const probe = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('is live whatever the worker and the database do', async () => {
    state = 'STARTING';
    database = async () => false;
    assert.deepEqual(await probe('/healthz'), { status: 200, body: { status: 'ok' } });
  });

  it('is ready while the worker runs and the database answers', async () => {
    assert.deepEqual(await probe('/readyz'), {
      status: 200,
      body: { status: 'ready', worker: 'RUNNING', database: true },
    });
  });

  it("says how far behind the worker's hand-outs are, in ids and in seconds of receipt time", async () => {
    backlog = { ids: 120, lagSeconds: 7.25 };
    assert.deepEqual(await probe('/readyz'), {
      status: 200,
      body: { status: 'ready', worker: 'RUNNING', database: true, handOut: { backlogIds: 120, lagSeconds: 7.25 } },
    });
    database = async () => false;
    assert.deepEqual(await probe('/readyz'), {
      status: 503,
      body: {
        status: 'unavailable',
        worker: 'RUNNING',
        database: false,
        handOut: { backlogIds: 120, lagSeconds: 7.25 },
      },
    });
  });

  it('answers 503 naming what is missing', async () => {
    database = async () => false;
    assert.deepEqual(await probe('/readyz'), {
      status: 503,
      body: { status: 'unavailable', worker: 'RUNNING', database: false },
    });
    for (const worker of ['STARTING', 'INITIALIZED', 'DRAINING', 'STOPPED', 'FAILED'] as const) {
      state = worker;
      database = async () => true;
      assert.deepEqual(await probe('/readyz'), {
        status: 503,
        body: { status: 'unavailable', worker, database: true },
      });
    }
  });

  it('answers within its deadline when the database hangs', async () => {
    // A server that takes connections and never answers, as a hung database does.
    const connections: Socket[] = [];
    const hung = createServer((socket) => connections.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const db = connectDatabase(`postgresql://postgres@127.0.0.1:${(hung.address() as AddressInfo).port}/postgres`, 1);
    database = () => isDatabaseReachable(db);
    try {
      const started = Date.now();
      const { status, body } = await probe('/readyz');
      assert.equal(status, 503);
      assert.deepEqual(body, { status: 'unavailable', worker: 'RUNNING', database: false });
      assert.ok(Date.now() - started < 3_000, 'within the 3 s a Compose health check waits');
    } finally {
      for (const socket of connections) socket.destroy();
      await Promise.all([db.$disconnect(), new Promise((resolve) => hung.close(resolve))]);
    }
  });

  it('logs probes at debug only', async () => {
    lines.length = 0;
    await probe('/healthz');
    database = async () => false;
    await probe('/readyz');
    const logged = lines.map((line) => JSON.parse(line) as { level: number; msg: string; statusCode?: number });
    assert.deepEqual(
      logged.map(({ level, msg, statusCode }) => ({ level, msg, statusCode })),
      [
        { level: 20, msg: 'probe answered', statusCode: 200 },
        { level: 20, msg: 'probe answered', statusCode: 503 },
      ],
    );
  });
});
