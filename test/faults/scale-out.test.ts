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
// The fleet bench's look: 7 s after the last callback, every object sighted within 28 s must have
// its row at its newest sighting, within 1.5 s of when that callback was sent.
const LOOK_AFTER_LAST_MS = 7_000;
const SIGHTED_WITHIN_MS = 28_000;
const LAST_SEEN_TOLERANCE_MS = 1_500;

describe(`${APIS} APIs and ${WORKERS} workers share one Temporal dev server and one database`, () => {
  // The object service of docs/contract.md: 300 ms to 4.3 s per answer.
  const system = runningSystem({ latencyMs: [300, 4_300], apis: APIS, workers: WORKERS });

  it('the fleet load spread over both APIs: every callback accepted, every row at its newest sighting', async (t) => {
    const harness = system();
    let next = 0;
    const driver = new FleetCallbackDriver(() => harness.callbackUrls[next++ % APIS] as string, FLEET);
    const sending: Array<Promise<boolean>> = [];
    const startedAt = Date.now();
    let lastSentAt = startedAt;
    for (let i = 0; i < CALLBACKS; i += 1) {
      lastSentAt = Date.now();
      // 1 to 200 random ids of the fleet; duplicates drawn are one id.
      sending.push(driver.send([...new Set(randomIds(200, FLEET.length))]));
      await sleep(Math.max(0, startedAt + (i + 1) * INTERVAL_MS - Date.now()));
    }
    await Promise.all(sending);
    await sleep(Math.max(0, lastSentAt + LOOK_AFTER_LAST_MS - Date.now()));

    const lastSeen = await harness.lastSeen(FLEET);
    const lookedAt = Date.now();
    const owed = [...driver.newestAcceptedSentAt].filter(([, sentAt]) => sentAt >= lookedAt - SIGHTED_WITHIN_MS);
    const missing = owed.filter(([id]) => !lastSeen.has(id));
    const behind = owed.filter(
      ([id, sentAt]) => lastSeen.has(id) && lastSeen.get(id)! < sentAt - LAST_SEEN_TOLERANCE_MS,
    );
    const ahead = owed.filter(
      ([id, sentAt]) => lastSeen.has(id) && lastSeen.get(id)! > sentAt + LAST_SEEN_TOLERANCE_MS,
    );
    const mostBehindS = Math.max(0, ...behind.map(([id, sentAt]) => (sentAt - lastSeen.get(id)!) / 1000));
    const rowsWritten = await Promise.all(
      Array.from({ length: WORKERS }, (_, index) => harness.workerMetric('presence_row_delay_seconds_count', index)),
    );
    t.diagnostic(
      `callbacks ${JSON.stringify(driver.callbacks)} over ${Math.round((lastSentAt - startedAt) / 1000)} s; ` +
        `looked ${lookedAt - lastSentAt} ms after the last: ${owed.length} objects sighted within 28 s, ` +
        `${missing.length} without a row, ${behind.length} behind (by up to ${mostBehindS.toFixed(1)} s) and ` +
        `${ahead.length} ahead of their newest sighting; ` +
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
    assert.ok(owed.length >= FLEET.length / 2, `the look covers most of the fleet (${owed.length})`);
    assert.equal(missing.length, 0, 'every object sighted within 28 s has its row');
    assert.equal(behind.length, 0, "no row behind its object's newest sighting");
    assert.equal(ahead.length, 0, "no row ahead of its object's newest sighting");
    // Temporal spread the object workflows over the workers: each one wrote rows.
    assert.ok(
      rowsWritten.every((rows) => (rows ?? 0) > 0),
      `rows written per worker: ${JSON.stringify(rowsWritten)}`,
    );
  });
});
