import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CallbackDriver } from '../support/callback-driver';
import { runningSystem } from '../support/fault-harness';
import { eventually } from '../../dev/support/wait';

describe('the Temporal server is killed with SIGKILL and restarted on the same database file', () => {
  const system = runningSystem({ latencyMs: [300, 1_500] });

  it('takes every callback into the outbox while it is away for 20 s, then records them all in Temporal', async (t) => {
    const harness = system();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10);
    driver.start(500);
    await sleep(2_000);
    await harness.killTemporal();
    const downSince = Date.now();
    await sleep(5_000);
    const readiness = await harness.readiness();
    await sleep(15_000);
    await harness.startTemporal();
    const upAgain = Date.now();
    // API and worker were not restarted: they reconnect on their own, and a worker drains the outbox.
    await eventually(
      async () => ((await harness.readiness()).body.status === 'ready' ? true : undefined),
      'the API to see Temporal again',
      30_000,
    );
    await sleep(2_000);

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
    const whileDown = totals.answers.filter(({ sentAt }) => sentAt >= downSince && sentAt < upAgain);
    t.diagnostic(
      `${summary}; ${whileDown.length} callbacks while down, answered ${JSON.stringify([...new Set(whileDown.map(({ status }) => status))])}`,
    );
    assert.deepEqual([readiness.status, readiness.body.status], [200, 'degraded']);
    assert.ok(whileDown.length >= 30, `callbacks kept coming while Temporal was away (${whileDown.length})`);
    assert.ok(
      totals.answers.every(({ status }) => status === 202),
      `every callback answered 202: ${JSON.stringify(totals.answers.map(({ status }) => status))}`,
    );
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
    assert.equal(await harness.outboxCallbacks(), 0, 'the outbox is drained');
  });
});
