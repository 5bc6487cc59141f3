import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { noopMetricMeter } from '@temporalio/common';
import { connectDatabase, type Database } from '../../src/db/prisma';
import { createLogger } from '../../src/logger';
import { CallbackOutbox } from '../../src/db/callback-outbox';
import { OutboxRelay } from '../../src/callbacks/outbox-relay';
import { callbackWorkflowId, startCallbackWorkflow } from '../../src/callbacks/workflow-start';
import type { AcceptedCallback } from '../../src/workflows';
import { callbackWorkflow } from '../../src/workflows';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { TestStack } from '../support/stack';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { eventually } from '../../dev/support/wait';

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

  const relayOn = (db: Database, start: (callback: AcceptedCallback) => Promise<void>) =>
    new OutboxRelay({
      outbox: new CallbackOutbox(db),
      start,
      metrics: {
        callbacks: noopMetricMeter.createGauge('callbacks'),
        oldestAgeSeconds: noopMetricMeter.createGauge('age'),
      },
      logger: createLogger('silent', 'relay'),
      pollIntervalMs: 50,
    });

  const waitUntilEmpty = () =>
    eventually(async () => ((await outbox.state()).callbacks === 0 ? true : undefined), 'the outbox to drain', 60_000);

  it('two relays at once start each of 1,000 callbacks once, oldest first per relay', async () => {
    const base = Date.now();
    for (let i = 0; i < 1_000; i += 1) {
      await outbox.add({ workflowId: `callback-relay-${i}`, objectIds: [i], receivedAtMs: base + i });
    }
    const starts = new Map<string, number>();
    const countingStart = async ({ workflowId }: AcceptedCallback) => {
      await sleep(1);
      starts.set(workflowId, (starts.get(workflowId) ?? 0) + 1);
    };
    const databases = [connectDatabase(database.url, 2), connectDatabase(database.url, 2)];
    const relays = databases.map((db) => relayOn(db, countingStart));
    for (const relay of relays) relay.start();
    try {
      await waitUntilEmpty();
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
      await Promise.all(databases.map((db) => db.$disconnect()));
    }
    assert.equal(starts.size, 1_000);
    assert.deepEqual([...new Set(starts.values())], [1], 'no callback started twice');
  });

  it('records a callback once when the relay stopped between its start and the delete', async () => {
    const callback = { workflowId: callbackWorkflowId(), objectIds: [900], receivedAtMs: Date.now() };
    await outbox.add(callback);
    const startInTemporal = (accepted: AcceptedCallback) =>
      startCallbackWorkflow(stack.client, stack.taskQueue, accepted);
    // Started in Temporal, but the row stays, as when a relay dies before its commit.
    const diesAfterStart = await outbox.relay(10, async (accepted) => {
      await startInTemporal(accepted);
      throw new Error('relay died');
    });
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

  it('records a callback drained after the TTL in Temporal, but hands out nothing of it', async () => {
    const callback = { workflowId: callbackWorkflowId(), objectIds: [910, 911], receivedAtMs: Date.now() - 31_000 };
    await outbox.add(callback);
    const relay = relayOn(db, (accepted) => startCallbackWorkflow(stack.client, stack.taskQueue, accepted));
    relay.start();
    await waitUntilEmpty();
    await relay.stop();
    const result = await stack.client.workflow.getHandle<typeof callbackWorkflow>(callback.workflowId).result();
    assert.deepEqual(result, { handedOut: 0, expired: 2 });
    assert.equal(objectService.attempts.get(910), undefined);
  });
});
