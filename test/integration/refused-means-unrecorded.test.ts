import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { createApi, type Api } from '../../src/api/create-api';
import {
  ANSWER_DEADLINE_MS,
  KEEP_ASKING_MS,
  OutboxFallbackRecorder,
  TEMPORAL_WAIT_MS,
} from '../../src/callbacks/outbox-fallback-recorder';
import { OutcomeUnknownError } from '../../src/callbacks/recorder';
import { TemporalCallbackRecorder } from '../../src/callbacks/temporal-recorder';
import { loadConfig } from '../../src/config';
import { CallbackOutbox } from '../../src/db/callback-outbox';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { freePort } from '../../dev/support/ports';
import { proxyDatabase, type TcpProxy } from '../../dev/support/tcp-proxy';
import { eventually } from '../../dev/support/wait';
import { AnswerHoldingProxy } from '../support/answer-holding-proxy';
import { workflowExists } from '../support/workflow-exists';

const TASK_QUEUE = 'presence-refused';

interface Answer {
  workflowId: string;
  /** Undefined: the API closed the connection without an answer. */
  status?: number;
  answeredInMs: number;
}

// The sender's client timeout (docs/contract.md §2): an answer later than this reaches no one.
const SENDER_TIMEOUT_MS = 1_000;

// Writes held up across the deadline, and what each answer says of them once they could have landed.
// The API reaches Temporal and PostgreSQL through proxies; the test looks at both directly.
describe('a callback answered 503 is recorded nowhere, then or later', () => {
  let server: DevServer;
  let database: TestDatabase;
  let databaseProxy: TcpProxy;
  let proxiedDatabaseUrl: string;
  let temporalProxy: AnswerHoldingProxy;
  let api: Api;
  let temporal: Client;
  let db: Database;
  let sent = 0;

  before(async () => {
    [server, database] = await Promise.all([
      startTemporalDevServer({ port: await freePort(), logLevel: 'error' }),
      createTestDatabase(),
    ]);
    ({ proxy: databaseProxy, url: proxiedDatabaseUrl } = await proxyDatabase(database.url, await freePort()));
    const [host = '', port] = server.address.split(':');
    temporalProxy = new AnswerHoldingProxy(await freePort(), { host, port: Number(port) });
    await temporalProxy.open();
    api = createApi(
      loadConfig({
        TEMPORAL_ADDRESS: temporalProxy.address,
        DATABASE_URL: proxiedDatabaseUrl,
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        LOG_LEVEL: 'silent',
      }),
    );
    temporal = new Client({ connection: await Connection.connect({ address: server.address }) });
    db = connectDatabase(database.url, 2);
  });
  after(async () => {
    await api?.close();
    await temporal?.connection.close();
    await db?.$disconnect();
    await temporalProxy?.close();
    await databaseProxy?.cut();
    await server?.stop();
    await database?.drop();
  });

  /** Posts a callback under a key of its own, so that its workflow id is known whatever the answer. */
  const post = async (): Promise<Answer> => {
    const key = `refused-${++sent}`;
    const postedAt = Date.now();
    const status = await api.app
      .inject({
        method: 'POST',
        url: '/callback',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        payload: { object_ids: [sent] },
      })
      .then(
        (response) => response.statusCode,
        () => undefined,
      );
    return { workflowId: `callback-key-${key}`, status, answeredInMs: Date.now() - postedAt };
  };

  const postEvery = async (count: number, intervalMs: number): Promise<Array<Promise<Answer>>> => {
    const answers: Array<Promise<Answer>> = [];
    for (let i = 0; i < count; i++) {
      answers.push(post());
      await sleep(intervalMs);
    }
    return answers;
  };

  const recorded = async (workflowId: string): Promise<boolean> =>
    (await workflowExists(temporal, workflowId)) || (await db.outboxCallback.count({ where: { workflowId } })) === 1;

  const assertTrue = async (answers: Answer[]): Promise<void> => {
    for (const { workflowId, status } of answers) {
      if (status === 503) assert.equal(await recorded(workflowId), false, `${workflowId} was answered 503`);
      if (status === 202) assert.equal(await recorded(workflowId), true, `${workflowId} was answered 202`);
    }
  };

  it('answers 503 only once PostgreSQL has cancelled the insert, a lock holding the outbox across the deadline while Temporal refuses', async (t) => {
    temporalProxy.refuseConnections();
    const locker = new PgClient({ connectionString: database.url });
    await locker.connect();
    let answers: Answer[];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE callback_outbox IN ACCESS EXCLUSIVE MODE');
      // Temporal refuses at once, so each insert waits for the lock from receipt until PostgreSQL
      // cancels it, 600 ms later. The lock goes 1,050 ms in: the first inserts are cancelled under it,
      // the later ones land then.
      const sending = await postEvery(10, 100);
      await sleep(50);
      await locker.query('ROLLBACK');
      answers = await Promise.all(sending);
    } finally {
      await locker.end();
    }
    t.diagnostic(`answers: ${answers.map(({ status, answeredInMs }) => `${status} in ${answeredInMs} ms`).join(', ')}`);
    assert.ok(
      answers.every(({ answeredInMs }) => answeredInMs < SENDER_TIMEOUT_MS),
      'every answer came before the sender gives up',
    );
    assert.deepEqual([answers[0]?.status, answers.at(-1)?.status], [503, 202]);
    assert.ok(answers.every(({ status }) => status === 202 || status === 503));
    // An insert still waiting on the server would commit as soon as the lock went; two seconds
    // later it would long be there, and the 503s' rows are not.
    await sleep(2_000);
    await assertTrue(answers);
  });

  it('answers 202 once Temporal answers a start it took before the deadline, the outbox refusing, and never 503', async () => {
    temporalProxy.acceptConnections();
    await eventually(
      async () => (await api.app.inject({ method: 'GET', url: '/readyz' })).json().temporal || undefined,
      'the API to reach Temporal again',
    );
    await databaseProxy.cut();
    temporalProxy.holdAnswers();
    const sending = await postEvery(3, 200);
    // Every deadline has passed: each start reached the server, its answer did not reach the API.
    await sleep(ANSWER_DEADLINE_MS + 200);
    temporalProxy.releaseAnswers();
    const answers = await Promise.all(sending);
    await databaseProxy.open();
    await assertTrue(answers);
    assert.deepEqual(
      answers.map(({ status }) => status),
      [202, 202, 202],
    );
  });

  it('gives no answer at all to a callback whose start Temporal does not answer in time: the start landed', async () => {
    await databaseProxy.cut();
    temporalProxy.holdAnswers();
    const postedAt = Date.now();
    const { workflowId, status } = await post();
    const answeredAt = Date.now();
    temporalProxy.releaseAnswers();
    await databaseProxy.open();
    assert.equal(status, undefined, 'the connection closed without an answer');
    assert.ok(answeredAt - postedAt >= ANSWER_DEADLINE_MS + KEEP_ASKING_MS, `gave up ${answeredAt - postedAt} ms in`);
    assert.equal(await recorded(workflowId), true, 'a 503 would have been false');
  });

  it('holds at most the set number of callbacks it keeps asking about; one more gets no answer at its deadline', async () => {
    const refusing = connectDatabase(proxiedDatabaseUrl, 1);
    const recorder = new OutboxFallbackRecorder(
      new TemporalCallbackRecorder(api.client, TASK_QUEUE),
      new CallbackOutbox(refusing),
      {
        temporalWaitMs: TEMPORAL_WAIT_MS,
        deadlineMs: ANSWER_DEADLINE_MS,
        keepAskingMs: 1_500,
        maxHeld: 1,
      },
    );
    await databaseProxy.cut();
    temporalProxy.holdAnswers();
    const settledAt = (workflowId: string, objectId: number) =>
      recorder.record({ workflowId, objectIds: [objectId], receivedAtMs: Date.now() }).then(
        () => assert.fail(`${workflowId} recorded`),
        (error: unknown) => {
          assert.ok(error instanceof OutcomeUnknownError, String(error));
          return Date.now();
        },
      );
    const firstPostedAt = Date.now();
    const first = settledAt('callback-held-1', 1);
    await sleep(100);
    const [firstGaveUpAt, secondGaveUpAt] = await Promise.all([first, settledAt('callback-held-2', 2)]);
    temporalProxy.releaseAnswers();
    await databaseProxy.open();
    await refusing.$disconnect();
    assert.ok(firstGaveUpAt - firstPostedAt >= ANSWER_DEADLINE_MS + 1_500, 'the first was held and asked about');
    assert.ok(secondGaveUpAt < firstGaveUpAt, 'the second was not held while the first was');
  });
});
