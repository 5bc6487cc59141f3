import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { FleetCallbackDriver } from '../support/fleet-driver';
import { runningSystem } from '../support/fault-harness';

const INTERVAL_MS = 3_000;
const LATENCY_MS: [number, number] = [300, 800];
const FLEET = Array.from({ length: 20 }, (_, i) => 8_000_000 + i);
const CALLBACK_EVERY_MS = 250;
const LOAD_MS = 12_000;
// How far `last_seen` may trail: the interval, the second the hand-out rests an id beyond it (so
// that its signal finds the check due, with no timer), the hand-out's delay and one answer.
const HAND_OUT_REST_BEYOND_MS = 1_000;
const HAND_OUT_DELAY_MS = 1_500;
const TRAILS_BY_AT_MOST_MS = INTERVAL_MS + HAND_OUT_REST_BEYOND_MS + HAND_OUT_DELAY_MS + LATENCY_MS[1];

describe('MIN_CHECK_INTERVAL_SECONDS set for the built API and worker', () => {
  const system = runningSystem({
    latencyMs: LATENCY_MS,
    env: { MIN_CHECK_INTERVAL_SECONDS: String(INTERVAL_MS / 1000) },
  });

  it('an object sighted every 250 ms is checked at most once per interval, and its row trails its newest sighting by a bounded time', async (t) => {
    const harness = system();
    const driver = new FleetCallbackDriver(() => harness.callbackUrl, FLEET);
    const acceptedSentAt: number[] = [];
    const lags: number[] = [];
    const startedAt = Date.now();
    for (let i = 0; Date.now() - startedAt < LOAD_MS; i += 1) {
      const sentAt = Date.now();
      if (await driver.send(FLEET)) acceptedSentAt.push(sentAt);
      if (i % 4 === 3) {
        // Every sighting sent longer ago than the bound is in every row by now.
        const lastSeen = await harness.lastSeen(FLEET);
        const owed = acceptedSentAt.filter((at) => at <= Date.now() - TRAILS_BY_AT_MOST_MS).at(-1);
        if (owed !== undefined) lags.push(...FLEET.map((id) => owed - (lastSeen.get(id) ?? 0)));
      }
      await sleep(Math.max(0, startedAt + (i + 1) * CALLBACK_EVERY_MS - Date.now()));
    }
    const lastAnsweredAt = Math.max(...driver.lastAcceptedAnsweredAt.values());
    const { lastSeen, behind } = await harness.catchUp(driver, lastAnsweredAt + TRAILS_BY_AT_MOST_MS - Date.now());
    const caughtUpAfterMs = Date.now() - lastAnsweredAt;

    // Consecutive checks start at least the interval apart; their answers, one latency range less.
    const answers = FLEET.map((id) => harness.objectAnswers.get(id) ?? []);
    const gaps = answers.flatMap((times) => times.slice(1).map((at, i) => at - (times[i] as number)));
    const shortestGapMs = Math.min(...gaps);
    const checks = answers.map((times) => times.length);
    t.diagnostic(
      `callbacks ${JSON.stringify(driver.callbacks)}; checks per object ${JSON.stringify(checks)}, ` +
        `shortest gap between answers ${shortestGapMs} ms; worst trail during the load ${Math.max(...lags)} ms past the ` +
        `bound of ${TRAILS_BY_AT_MOST_MS} ms; caught up ${caughtUpAfterMs} ms after the last answer; rows ${lastSeen.size}`,
    );
    assert.equal(driver.callbacks.refused + driver.callbacks.unanswered, 0, 'every callback accepted');
    assert.ok(
      shortestGapMs >= INTERVAL_MS - (LATENCY_MS[1] - LATENCY_MS[0]),
      `answers to one object's checks ${shortestGapMs} ms apart`,
    );
    // Without the interval, every object would be checked about once per answer.
    assert.ok(
      checks.every((count) => count <= Math.floor((Date.now() - startedAt) / INTERVAL_MS) + 1),
      `checks per object ${JSON.stringify(checks)}`,
    );
    assert.ok(
      lags.length > 0 && lags.every((lag) => lag <= 0),
      'during the load, every row holds every sighting sent longer ago than the bound',
    );
    assert.deepEqual(behind, [], 'once callbacks stop, every row reaches its newest sighting within the bound');
  });
});
