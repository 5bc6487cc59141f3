import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CallbackDriver } from '../support/callback-driver';
import { runningSystem } from '../support/fault-harness';

describe('the API dies while callbacks arrive', () => {
  const system = runningSystem({ latencyMs: [50, 300] });

  it('SIGKILL: what it accepted is processed; while it is down nothing is answered 2xx', async (t) => {
    const harness = system();
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

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver, 180_000);
    const whileDown = totals.answers.filter(({ sentAt }) => sentAt >= downSince && sentAt < upAgain);
    t.diagnostic(`${summary}; ${whileDown.length} callbacks sent while down, all failed at the sender`);
    assert.ok(whileDown.length > 0);
    assert.ok(whileDown.every(({ status }) => status < 200 || status >= 300));
    assert.ok(
      totals.answers.some(({ sentAt, status }) => sentAt > upAgain && status === 202),
      'accepts again after the restart',
    );
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
  });

  it('SIGTERM: in-flight callbacks are answered before it exits, and nothing is lost', async (t) => {
    const harness = system();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10, 100_000);
    driver.start(50);
    await sleep(1_500);
    harness.api?.kill('SIGTERM');
    const { code } = (await harness.api?.exited) ?? {};
    await harness.startApi();
    await sleep(500);

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver, 180_000);
    t.diagnostic(`exit code ${code}; ${summary}`);
    assert.equal(code, 0);
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
  });
});
