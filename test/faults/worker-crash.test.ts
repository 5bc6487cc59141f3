import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { sendCallback } from '../../dev/tester/callback-sender';
import { CallbackDriver } from '../support/callback-driver';
import { FleetCallbackDriver } from '../support/fleet-driver';
import { runningSystem } from '../support/fault-harness';
import { eventually } from '../../dev/support/wait';
import { LARGE_LOAD } from '../support/timeouts';

describe('a worker dies in the middle of checks', () => {
  const system = runningSystem({ latencyMs: [300, 1_500] });

  it('SIGKILL: every accepted id is processed once a worker is back', async (t) => {
    const harness = system();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10);
    driver.start(200);
    await sleep(2_000);
    harness.worker?.kill('SIGKILL');
    await harness.worker?.exited;
    await sleep(2_000);
    await harness.startWorker();
    await sleep(2_000);

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
    t.diagnostic(`${summary}`);
    assert.ok(totals.accepted > 0);
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
  });

  it('SIGTERM: the worker stops cleanly within its grace time, and nothing is lost', async (t) => {
    const harness = system();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10, 100_000);
    driver.start(200);
    await sleep(2_000);
    const stopping = Date.now();
    harness.worker?.kill('SIGTERM');
    const { code } = (await harness.worker?.exited) ?? {};
    const stoppedAfterMs = Date.now() - stopping;
    await harness.startWorker();
    await sleep(1_000);

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
    t.diagnostic(`stopped after ${stoppedAfterMs} ms with code ${code}; ${summary}`);
    assert.equal(code, 0);
    assert.ok(stoppedAfterMs < 15_000);
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
  });
});

describe('a worker is stopped while the object service is down', () => {
  const system = runningSystem({ latencyMs: [50, 100] });

  it('SIGTERM: exits within its grace time although checks are still retrying; they finish on the next worker', async (t) => {
    const harness = system();
    const objectServiceUrl = harness.objectService.url;
    await harness.objectService.close();
    const driver = new CallbackDriver(() => harness.callbackUrl, 10);
    driver.start(200);
    await sleep(1_500);
    const stopping = Date.now();
    harness.worker?.kill('SIGTERM');
    const { code, signal } = (await harness.worker?.exited) ?? {};
    const stoppedAfterMs = Date.now() - stopping;
    await harness.reopenObjectService(objectServiceUrl);
    await harness.startWorker();

    const { totals, processed, refusedButWritten, summary } = await harness.settle(driver);
    t.diagnostic(`stopped after ${stoppedAfterMs} ms (code ${code}, signal ${signal}); ${summary}`);
    // Its checks get 10 s, then it abandons them and is gone within 20 s (docs/guarantees.md).
    assert.equal(code, 0);
    assert.ok(stoppedAfterMs < 20_000, `stopped after ${stoppedAfterMs} ms`);
    assert.equal(processed, totals.accepted);
    assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
  });
});

describe('a worker dies while it hands out a large callback', () => {
  const system = runningSystem({ latencyMs: [50, 200] });

  it(
    'SIGKILL in the middle of 5,000 ids: the hand-out resumes on the next worker and every id gets its row',
    LARGE_LOAD,
    async (t) => {
      const harness = system();
      const ids = new Set(Array.from({ length: 5_000 }, (_, i) => 5_000_000 + i));
      const started = Date.now();
      // How fast it is answered is the bench's business; here it must be accepted.
      const answer = await sendCallback(harness.callbackUrl, [...ids], 10_000);
      assert.equal(answer.status, 202, `answered ${answer.status} ${answer.error ?? ''} in ${answer.latencyMs} ms`);
      await eventually(
        async () => ((await harness.countRows(ids)) >= 100 ? true : undefined),
        'the first rows',
        60_000,
      );
      harness.worker?.kill('SIGKILL');
      await harness.worker?.exited;
      const rowsWhenKilled = await harness.countRows(ids);
      await sleep(1_000);
      await harness.startWorker();

      const processed = await harness.waitForRows(ids);
      t.diagnostic(
        `acknowledged in ${answer.latencyMs} ms; ${rowsWhenKilled} rows when the worker was killed, ${processed} of ${ids.size} after ${Date.now() - started} ms`,
      );
      assert.ok(rowsWhenKilled < ids.size, 'the worker died before the hand-out was through');
      assert.equal(processed, ids.size);
    },
  );
});

describe('a worker dies while it coalesces a backlog of repeated ids', () => {
  const system = runningSystem({ latencyMs: [50, 200] });

  it(
    'SIGKILL while hand-outs wait on newer sightings of their ids: every id gets its newest sighting',
    LARGE_LOAD,
    async (t) => {
      const harness = system();
      const fleet = Array.from({ length: 2_000 }, (_, i) => 7_000_000 + i);
      const driver = new FleetCallbackDriver(() => harness.callbackUrl, fleet);
      // The whole fleet at once makes a backlog; callbacks of ids from it keep coming behind it,
      // so the older hand-out's ids are covered by newer sightings instead of signalled.
      assert.ok(await driver.send(fleet, 10_000), 'the fleet callback was accepted');
      driver.start(200, 50);
      const coalescedWhenKilled = await eventually(
        async () => {
          const coalesced = (await harness.workerMetric('presence_sightings_coalesced_total')) ?? 0;
          return coalesced > 0 && (await harness.countRows(new Set(fleet))) >= 100 ? coalesced : undefined;
        },
        'the worker to coalesce sightings and write the first rows',
        60_000,
      );
      harness.worker?.kill('SIGKILL');
      await harness.worker?.exited;
      const rowsWhenKilled = await harness.countRows(new Set(fleet));
      await sleep(1_000);
      await harness.startWorker();
      await sleep(3_000);
      await driver.stop();

      const { lastSeen, behind } = await harness.catchUp(driver);
      const missing = behind.filter(([id]) => !lastSeen.has(id));
      const stale = behind.filter(([id]) => lastSeen.has(id));
      const refusedButWritten = await harness.countRows(driver.onlyRefusedIds());
      t.diagnostic(
        `callbacks ${JSON.stringify(driver.callbacks)}; ${coalescedWhenKilled} sightings coalesced and ` +
          `${rowsWhenKilled} rows when the worker was killed; lost ${missing.length}, behind their newest sighting ${stale.length}`,
      );
      assert.ok(rowsWhenKilled < fleet.length, 'the worker died before the hand-outs were through');
      assert.equal(missing.length, 0, 'every accepted id has a row');
      assert.equal(stale.length, 0, "every row carries its id's newest accepted sighting");
      assert.equal(refusedButWritten, 0, 'a refused callback recorded nothing');
    },
  );
});
