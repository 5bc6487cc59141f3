import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { noopMetricMeter, type MetricCounter, type MetricGauge } from '@temporalio/common';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { createLogger } from '../../src/logger';
import { CallbackOutbox } from '../../src/db/callback-outbox';
import { OutboxRelay } from '../../src/callbacks/outbox-relay';
import { callbackWorkflowId, startCallbackWorkflow } from '../../src/callbacks/workflow-start';
import type { AcceptedCallback } from '../../src/workflows';
import { callbackWorkflow } from '../../src/workflows';
import { createTestDatabase, withConnection, type TestDatabase } from '../../dev/support/database';
import { recordedCallback } from '../support/recorded-callback';
import { TestStack } from '../support/stack';
import { workflowExists } from '../support/workflow-exists';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { eventually } from '../../dev/support/wait';

// The outbox's documented bound (docs/guarantees.md, docs/operations.md), not the constant in src/.
const DOCUMENTED_OUTBOX_LIMIT = 10_000;

describe('the outbox relay, on a real PostgreSQL and Temporal server', () => {
  let objectService: StubObjectService;
  let stack: TestStack;
  // An outbox of its own: the stack's worker runs a relay on the stack's database.
  let database: TestDatabase;
  let db: Database;
  let outbox: CallbackOutbox;

  before(async () => {
    objectService = await startStubObjectService((id, _attempt, response) =>
      answer(response, 200, { id, online: true }),
    );
    [stack, database] = await Promise.all([
      TestStack.start({ objectServiceUrl: objectService.url }),
      createTestDatabase(),
    ]);
    db = connectDatabase(database.url, 2);
    outbox = new CallbackOutbox(db);
  });
  after(async () => {
    await db?.$disconnect();
    await database?.drop();
    await stack?.stop();
    await objectService?.close();
  });

  /** A counter that adds up what it is given. */
  const tally = (): MetricCounter & { total: number } =>
    Object.assign(noopMetricMeter.createCounter('tally'), {
      total: 0,
      add(this: { total: number }, value: number) {
        this.total += value;
      },
    });

  /** A gauge that keeps every value it is set to. */
  const history = (): MetricGauge & { values: number[] } =>
    Object.assign(noopMetricMeter.createGauge('history'), {
      values: [] as number[],
      set(this: { values: number[] }, value: number) {
        this.values.push(value);
      },
    });

  const relayOn = (db: Database, start: (callback: AcceptedCallback) => Promise<void>) => {
    const counted = { expired: tally(), conflicts: tally() };
    const waiting = history();
    const relay = new OutboxRelay({
      outbox: new CallbackOutbox(db),
      start,
      ttlSeconds: 30,
      metrics: {
        callbacks: waiting,
        oldestAgeSeconds: noopMetricMeter.createGauge('age'),
        ...counted,
      },
      logger: createLogger('silent', 'relay'),
      pollIntervalMs: 50,
    });
    return Object.assign(relay, { counted, waiting });
  };

  const startInTemporal = (accepted: AcceptedCallback) =>
    startCallbackWorkflow(stack.client, stack.taskQueue, accepted);

  // Reads one row at most: the drain test counts what is read.
  const isEmpty = (on: Database) => on.outboxCallback.findFirst().then((row) => (row === null ? true : undefined));
  const waitUntilEmpty = (on = db) => eventually(() => isEmpty(on), 'the outbox to drain', 60_000);

  it('two relays at once start each of 1,000 callbacks once, oldest first per relay', async (t) => {
    const base = Date.now();
    // Inserted in another order than their receipt times (i × 7 mod 1,000 takes each of 0 to 999
    // once): a relay that took rows in the table's own order would not start them oldest first.
    const receivedAt = (i: number) => base + ((i * 7) % 1_000);
    for (let i = 0; i < 1_000; i += 1) {
      await outbox.add({ workflowId: `callback-relay-${i}`, objectIds: [i], receivedAtMs: receivedAt(i) });
    }
    const starts = new Map<string, number>();
    const databases = [connectDatabase(database.url, 2), connectDatabase(database.url, 2)];
    // Each relay's starts, in the order it makes them.
    const startOrders = databases.map(() => [] as number[]);
    const relays = databases.map((db, index) =>
      relayOn(db, async ({ workflowId, receivedAtMs }) => {
        startOrders[index]?.push(receivedAtMs);
        await sleep(1);
        starts.set(workflowId, (starts.get(workflowId) ?? 0) + 1);
      }),
    );
    for (const relay of relays) relay.start();
    try {
      await waitUntilEmpty();
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
      await Promise.all(databases.map((db) => db.$disconnect()));
    }
    assert.equal(starts.size, 1_000);
    assert.deepEqual([...new Set(starts.values())], [1], 'no callback started twice');
    t.diagnostic(`starts per relay: ${startOrders.map((order) => order.length)}`);
    for (const [index, order] of startOrders.entries()) {
      assert.ok(order.length > 0, `relay ${index} started callbacks too`);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `relay ${index} starts the oldest first`,
      );
    }
  });

  it('records a callback once when the relay stopped between its start and the delete', async () => {
    const callback = { workflowId: callbackWorkflowId(), objectIds: [900], receivedAtMs: Date.now() };
    await outbox.add(callback);
    // Started in Temporal, but the row stays, as when a relay dies before its commit.
    const diesAfterStart = await outbox.relay(
      10,
      async (accepted) => {
        await startInTemporal(accepted);
        throw new Error('relay died');
      },
      30,
    );
    assert.equal(diesAfterStart.started, 0);
    assert.equal((await outbox.state()).callbacks, 1);

    const relay = relayOn(db, startInTemporal);
    relay.start();
    await waitUntilEmpty();
    await relay.stop();
    await stack.client.workflow.getHandle<typeof callbackWorkflow>(callback.workflowId).result();
    await stack.checked(900, callback.receivedAtMs);
    assert.equal((await stack.client.workflow.count(`WorkflowId = "${callback.workflowId}"`)).count, 1);
    assert.equal(objectService.attempts.get(900), 1);
  });

  it('drops a callback older than the TTL by the database clock, counts it, and starts nothing of it', async () => {
    const stale = { workflowId: callbackWorkflowId(), objectIds: [910, 911], receivedAtMs: Date.now() };
    const fresh = { workflowId: callbackWorkflowId(), objectIds: [912], receivedAtMs: Date.now() };
    await outbox.add(stale);
    await outbox.add(fresh);
    // Aged by the database's own clock, which judges it.
    await db.$executeRaw`UPDATE callback_outbox SET received_at = clock_timestamp() - interval '31 seconds'
      WHERE workflow_id = ${stale.workflowId}`;
    const relay = relayOn(db, startInTemporal);
    relay.start();
    await waitUntilEmpty();
    await relay.stop();
    assert.equal(relay.counted.expired.total, 1);
    assert.equal(await workflowExists(stack.client, stale.workflowId), false);
    assert.equal(await workflowExists(stack.client, fresh.workflowId), true);
    await stack.checked(912, fresh.receivedAtMs);
    assert.equal(objectService.attempts.get(910), undefined);
  });

  it('drops a callback whose Idempotency-Key names a callback with other ids in Temporal, counts it, and starts the rest', async () => {
    const first = { workflowId: callbackWorkflowId('relay-conflict'), objectIds: [920], receivedAtMs: Date.now() };
    await startInTemporal(first);
    // The same key with another body, taken by the outbox while Temporal was away; a repeat of the
    // first body too, as when both stores took it.
    const other = { ...first, objectIds: [921, 920] };
    const repeat = { workflowId: callbackWorkflowId('relay-repeat'), objectIds: [922], receivedAtMs: Date.now() };
    await startInTemporal(repeat);
    // And one in the outbox alone, received after the conflicting one: the rest of the batch.
    const fresh = { workflowId: callbackWorkflowId(), objectIds: [923], receivedAtMs: Date.now() + 1 };
    await outbox.add(other);
    await outbox.add(repeat);
    await outbox.add(fresh);
    const relay = relayOn(db, startInTemporal);
    relay.start();
    await waitUntilEmpty();
    await relay.stop();
    assert.equal(relay.counted.conflicts.total, 1);
    assert.deepEqual((await recordedCallback(stack.client, first.workflowId)).objectIds, [920]);
    await stack.checked(920, first.receivedAtMs);
    assert.equal(objectService.attempts.get(921), undefined);
    assert.equal(await workflowExists(stack.client, fresh.workflowId), true, 'the rest of the batch is started');
    assert.deepEqual((await recordedCallback(stack.client, fresh.workflowId)).objectIds, [923]);
    await stack.checked(923, fresh.receivedAtMs);
  });

  // PostgreSQL counts the rows each scan of a table reads (pg_stat_user_tables, pg_stat_user_indexes).
  // Draining reads each row's index entry twice at most (once more after its delete), and the gauges
  // count up to the limit once a second. A relay that counted the table on each pass of 100, or whose
  // delete the planner turned into a scan of the whole table, would read 20,000 + 19,900 + … rows,
  // 2 million, to drain 20,000: on a backlog large enough, each pass outlasts the statement timeout
  // and the outbox never drains.
  it('drains a backlog reading each row twice at most, and the gauges up to the limit once a second', async (t) => {
    const backlog = 20_000;
    // A table of its own: the statistics then count this relay's reads alone.
    const own = await createTestDatabase();
    const relayDb = connectDatabase(own.url, 1);
    try {
      await withConnection(own.url, (connection) =>
        connection.query(`INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
          SELECT 'callback-backlog-' || i, ARRAY[i], now() + i * interval '1 millisecond'
          FROM generate_series(1, ${backlog}) AS i`),
      );
      const started = new Set<string>();
      const relay = relayOn(relayDb, async ({ workflowId }) => void started.add(workflowId));
      const drainStartedAt = Date.now();
      relay.start();
      await waitUntilEmpty(relayDb);
      await relay.stop();
      const drainSeconds = (Date.now() - drainStartedAt) / 1000;
      // Its backend's counts reach the statistics as it exits.
      await relayDb.$disconnect();
      const reads = await withConnection(own.url, (connection) =>
        eventually(async () => {
          const { rows } = await connection.query<{ reads: string; deleted: string }>(
            `SELECT seq_tup_read + (SELECT sum(idx_tup_read) FROM pg_stat_user_indexes AS i WHERE i.relid = t.relid) AS reads,
               n_tup_del AS deleted
             FROM pg_stat_user_tables AS t WHERE relname = 'callback_outbox'`,
          );
          return Number(rows[0]?.deleted) === backlog ? Number(rows[0]?.reads) : undefined;
        }, "the relay's statistics"),
      );
      assert.equal(started.size, backlog);
      // The first report, before any start, counts the backlog up to the documented limit, and no more.
      assert.equal(relay.waiting.values[0], DOCUMENTED_OUTBOX_LIMIT, 'the gauge counts up to the limit');
      const reports = relay.waiting.values.length;
      assert.ok(reports <= Math.ceil(drainSeconds + 1), `${reports} reports in ${drainSeconds} s: once a second`);
      t.diagnostic(`${reads} rows read to drain ${backlog} in ${drainSeconds} s`);
      const bound = 3 * backlog + DOCUMENTED_OUTBOX_LIMIT * Math.ceil(drainSeconds + 1);
      assert.ok(reads <= bound, `${reads} rows read to drain ${backlog} in ${drainSeconds} s, more than ${bound}`);
    } finally {
      await relayDb.$disconnect();
      await own.drop();
    }
  });
});
