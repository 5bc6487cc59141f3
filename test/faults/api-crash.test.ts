import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CallbackDriver } from '../support/callback-driver';
import { FaultHarness } from '../support/fault-harness';

describe('the API dies while callbacks arrive', () => {
  let harness: FaultHarness;
  before(async () => {
    harness = await FaultHarness.start({ latencyMs: [50, 300] });
    await Promise.all([harness.startApi(), harness.startWorker()]);
  });
  after(() => harness?.stop());

  it('SIGKILL: what it accepted is processed; while it is down nothing is answered 2xx', async (t) => {
    const driver = new CallbackDriver(() => harness.callbackUrl, 10);
    driver.start(100);
    await sleep(2_000);
    harness.api?.kill('SIGKILL');
    await harness.api?.exited;
    const downSince = Date.now();
    await sleep(1_500);
    const upAgain = Date.now();
    await harness.startApi();
    await sleep(1_500);
    const totals = await driver.stop();

    const whileDown = totals.answers.filter(({ sentAt }) => sentAt >= downSince && sentAt < upAgain);
    const processed = await harness.waitForRows(totals.acceptedIds, 60_000);
    t.diagnostic(`ids sent ${totals.sent}, accepted ${totals.accepted}, processed ${processed}, lost ${totals.accepted - processed}; ${whileDown.length} callbacks sent while down, all failed at the sender`);
    assert.ok(whileDown.length > 0);
    assert.ok(whileDown.every(({ status }) => status < 200 || status >= 300));
    assert.ok(totals.answers.some(({ sentAt, status }) => sentAt > upAgain && status === 202), 'accepts again after the restart');
    assert.equal(processed, totals.accepted);
  });

  it('SIGTERM: in-flight callbacks are answered before it exits, and nothing is lost', async (t) => {
    const driver = new CallbackDriver(() => harness.callbackUrl, 10, 100_000);
    driver.start(50);
    await sleep(1_500);
    harness.api?.kill('SIGTERM');
    const { code } = (await harness.api?.exited) ?? {};
    await harness.startApi();
    await sleep(500);
    const totals = await driver.stop();

    const processed = await harness.waitForRows(totals.acceptedIds, 60_000);
    t.diagnostic(`exit code ${code}; ids sent ${totals.sent}, accepted ${totals.accepted}, processed ${processed}, lost ${totals.accepted - processed}`);
    assert.equal(code, 0);
    assert.equal(processed, totals.accepted);
  });
});
