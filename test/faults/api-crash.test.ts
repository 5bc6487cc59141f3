import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { freePort } from '../../dev/support/ports';
import { eventually } from '../../dev/support/wait';
import { AnswerHoldingProxy } from '../support/answer-holding-proxy';
import { CallbackDriver } from '../support/callback-driver';
import { runningSystem } from '../support/fault-harness';

// Fastify's line for each request it starts to handle.
const INCOMING_CALLBACK = /"url":"\/callback".*"msg":"incoming request"/;

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

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
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

  it('SIGTERM: the callbacks in flight are answered before it exits, and nothing is lost', async (t) => {
    const harness = system();
    // The API reaches Temporal through a proxy that can hold Temporal's answers back.
    const [host = '', port] = harness.server.address.split(':');
    const temporal = new AnswerHoldingProxy(await freePort(), { host, port: Number(port) });
    await temporal.open();
    try {
      await harness.api?.stop();
      const api = await harness.startApi(0, { TEMPORAL_ADDRESS: temporal.address });
      const driver = new CallbackDriver(() => harness.callbackUrl, 10, 100_000);
      driver.start(50);
      await sleep(1_000);
      // From here each callback waits in the API: Temporal's answer is held, the outbox is cut off.
      temporal.holdAnswers();
      await harness.proxy.cut();
      await sleep(200);
      // Posts no more; `settle` waits for the answers.
      void driver.stop();
      await eventually(
        async () => api.printed(INCOMING_CALLBACK) === driver.posted || undefined,
        'the API to have received every callback posted',
      );
      const signalledAt = Date.now();
      api.kill('SIGTERM');
      await eventually(
        async () => api.printed(/"msg":"shutting down"/) > 0 || undefined,
        'the API to begin its shutdown',
      );
      temporal.releaseAnswers();
      await harness.proxy.open();
      const { code } = await api.exited;

      const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
      const inFlight = totals.answers.filter(({ answeredAt }) => answeredAt >= signalledAt);
      t.diagnostic(
        `exit code ${code}; in flight at the signal: ${inFlight.length}, answered ${inFlight.map(({ status }) => status)}; ${summary}`,
      );
      assert.equal(code, 0);
      assert.ok(inFlight.length > 0, 'callbacks were in flight at the signal');
      assert.ok(
        inFlight.every(({ status }) => status !== 0),
        'each callback in flight got an answer, not a dropped connection',
      );
      assert.ok(
        inFlight.some(({ status }) => status === 202),
        'callbacks in flight were accepted',
      );
      assert.equal(processed, totals.accepted, 'every accepted id is processed');
      assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
    } finally {
      await temporal.close();
    }
  });
});
