import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { randomIds } from '../../dev/tester/callback-sender';
import { FleetCallbackDriver } from '../support/fleet-driver';
import { clockTime, runningSystem } from '../support/fault-harness';

const APIS = 2;
const WORKERS = 3;
const FLEET = Array.from({ length: 400 }, (_, id) => id);
const CALLBACKS = 45;
const INTERVAL_MS = 1_000;
// The object service of docs/contract.md: 300 ms to 4.3 s per answer.
const LATENCY_MS: [number, number] = [300, 4_300];
// The contract's bound once callbacks stop: the hand-out's delay (a callback's signals reach their
// workflows within 1.5 s under this load), then the check in flight and the object's own check.
const HAND_OUT_DELAY_MS = 1_500;
const CAUGHT_UP_WITHIN_MS = HAND_OUT_DELAY_MS + 2 * LATENCY_MS[1];

describe(`${APIS} APIs and ${WORKERS} workers share one Temporal dev server and one database`, () => {
  const system = runningSystem({ latencyMs: LATENCY_MS, apis: APIS, workers: WORKERS });

  it('the fleet load spread over both APIs: every callback accepted, every row at its newest sighting within the contract bound', async (t) => {
    const harness = system();
    let next = 0;
    const driver = new FleetCallbackDriver(() => harness.callbackUrls[next++ % APIS] as string, FLEET);
    const sending: Array<Promise<boolean>> = [];
    const startedAt = Date.now();
    for (let i = 0; i < CALLBACKS; i += 1) {
      // 1 to 200 random ids of the fleet; duplicates drawn are one id.
      sending.push(driver.send([...new Set(randomIds(200, FLEET.length))]));
      await sleep(Math.max(0, startedAt + (i + 1) * INTERVAL_MS - Date.now()));
    }
    await Promise.all(sending);
    const lastAnsweredAt = Math.max(...driver.lastAcceptedAnsweredAt.values());

    const { lastSeen, behind } = await harness.catchUp(driver, lastAnsweredAt + CAUGHT_UP_WITHIN_MS - Date.now());
    const caughtUpAfterMs = Date.now() - lastAnsweredAt;
    const missing = behind.filter(([id]) => !lastSeen.has(id));
    const ahead = [...driver.newestAcceptedSentAt].filter(
      ([id]) => (lastSeen.get(id) ?? 0) > (driver.lastAcceptedAnsweredAt.get(id) as number),
    );
    const rowsWritten = await Promise.all(
      Array.from({ length: WORKERS }, (_, index) => harness.workerMetric('presence_row_delay_seconds_count', index)),
    );
    t.diagnostic(
      `callbacks ${JSON.stringify(driver.callbacks)} over ${Math.round((lastAnsweredAt - startedAt) / 1000)} s; ` +
        `${driver.newestAcceptedSentAt.size} objects sighted; ${caughtUpAfterMs} ms after the last answer (bound ${CAUGHT_UP_WITHIN_MS} ms): ` +
        `${missing.length} without a row, ${behind.length - missing.length} behind, ${ahead.length} ahead of their newest sighting; ` +
        `rows written per worker ${JSON.stringify(rowsWritten)}`,
    );
    // A row behind is diagnosed by its object's workflow: when its signals came, and its checks ended.
    const shown = behind.slice(0, 5);
    const timelines = shown.length > 0 ? await harness.objectTimelines(shown.map(([id]) => id)) : new Map();
    for (const [id, sentAt] of shown) {
      t.diagnostic(`object ${id}: sent ${clockTime(sentAt)}, row ${clockTime(lastSeen.get(id))}; ${timelines.get(id)}`);
    }
    assert.deepEqual(
      driver.callbacks,
      { accepted: CALLBACKS, refused: 0, unanswered: 0 },
      'every callback answered 202',
    );
    assert.equal(missing.length, 0, 'every sighted object has its row');
    assert.equal(behind.length, 0, "every row at its object's newest sighting within the bound");
    assert.equal(ahead.length, 0, 'no row newer than the answer to the last callback that carried its object');
    // Temporal spread the object workflows over the workers: each one wrote rows.
    assert.ok(
      rowsWritten.every((rows) => (rows ?? 0) > 0),
      `rows written per worker: ${JSON.stringify(rowsWritten)}`,
    );
  });
});
