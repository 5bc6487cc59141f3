import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CallbackDriver } from '../support/callback-driver';
import { runningSystem } from '../support/fault-harness';
import { eventually } from '../support/wait';

describe('the Temporal server is killed with SIGKILL and restarted on the same database file', () => {
  const system = runningSystem({ latencyMs: [300, 1_500] });

  it('answers 503 while it is away, recovers by itself, and loses nothing accepted', async (t) => {
    const harness = system();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10);
    driver.start(200);
    await sleep(2_000);
    await harness.killTemporal();
    const downSince = Date.now();
    await sleep(1_500);
    const readiness = await harness.readiness();
    await sleep(1_000);
    const upAgain = Date.now();
    await harness.startTemporal();
    // API and worker were not restarted: they reconnect on their own.
    await eventually(async () => (totalsAcceptedSince(driver, upAgain) ? true : undefined), 'a callback accepted after the restart', 30_000);

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver, 180_000);
    const whileDown = totals.answers.filter(({ sentAt }) => sentAt >= downSince + 100 && sentAt < upAgain);
    t.diagnostic(`${summary}; while down: ${JSON.stringify(whileDown.map(({ status }) => status))}`);
    assert.equal(readiness.status, 503);
    assert.equal(readiness.body.temporal, false);
    assert.ok(whileDown.length > 0);
    assert.ok(whileDown.every(({ status }) => status === 503), 'every callback while Temporal is away gets a 503');
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
    assert.equal((await harness.readiness()).status, 200);
  });
});

function totalsAcceptedSince(driver: CallbackDriver, since: number): boolean {
  return driver.totals.answers.some(({ sentAt, status }) => sentAt >= since && status === 202);
}
