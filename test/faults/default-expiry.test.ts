import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { randomIds } from '../../dev/tester/callback-sender';
import { FleetCallbackDriver } from '../support/fleet-driver';
import { runningSystem } from '../support/fault-harness';

// The defaults of docs/contract.md §4: OBJECT_TTL_SECONDS 30, CLEANUP_INTERVAL_SECONDS 3.
const TTL_MS = 30_000;
const CLEANUP_INTERVAL_MS = 3_000;
// The cleanup's own run: the Schedule's start of the workflow and its one delete.
const CLEANUP_RUN_MS = 1_000;
const LATENCY_MS: [number, number] = [300, 4_300];
// Once sent, a sighting is in its row within the hand-out's delay and two answers (§3).
const IN_ROW_WITHIN_MS = 1_500 + 2 * LATENCY_MS[1];
// Sighted only in the first seconds, then never again: their rows must expire on time.
const FIRST_IDS = Array.from({ length: 100 }, (_, i) => 6_000_000 + i);
const FIRST_MS = 5_000;
// Sighted all along, as the upstream sends them: none may lose its row.
const FLEET = Array.from({ length: 200 }, (_, i) => 6_100_000 + i);
const LOAD_MS = 45_000;

describe('the default TTL and cleanup interval under the fleet load', () => {
  const system = runningSystem({
    latencyMs: LATENCY_MS,
    env: { OBJECT_TTL_SECONDS: undefined, CLEANUP_INTERVAL_SECONDS: undefined },
  });

  it('rows lapse no sooner than the TTL after their last_seen and within the cleanup interval after it; no sighted object loses its row once its check could have answered', async (t) => {
    const harness = system();
    const driver = new FleetCallbackDriver(() => harness.callbackUrl, FLEET);
    const early: string[] = [];
    const late: string[] = [];
    const lost: string[] = [];
    // Per id, the newest `last_seen` any look found: the cleanup may not take that row before a TTL after it.
    const newestRow = new Map<number, number>();
    const look = async () => {
      const lookedAt = Date.now();
      const lastSeen = await harness.lastSeen([...FIRST_IDS, ...FLEET]);
      const answeredAt = Date.now();
      for (const id of [...FIRST_IDS, ...FLEET]) {
        const row = lastSeen.get(id);
        const held = newestRow.get(id);
        if (row !== undefined) {
          newestRow.set(id, Math.max(row, held ?? 0));
          if (lookedAt > row + TTL_MS + CLEANUP_INTERVAL_MS + CLEANUP_RUN_MS)
            late.push(`${id} at ${lookedAt - row} ms`);
        } else if (held !== undefined && answeredAt < held + TTL_MS) early.push(`${id} at ${answeredAt - held} ms`);
        // Once its check could have answered, a sighting's row stays until a TTL after its sending.
        const sentAt = driver.newestAcceptedSentAt.get(id);
        if (
          row === undefined &&
          sentAt !== undefined &&
          sentAt <= lookedAt - IN_ROW_WITHIN_MS &&
          answeredAt < sentAt + TTL_MS
        )
          lost.push(`${id} at ${lookedAt - sentAt} ms`);
      }
    };

    const sending: Array<Promise<boolean>> = [];
    const startedAt = Date.now();
    for (let i = 0; Date.now() - startedAt < LOAD_MS; i += 1) {
      const ids = [...new Set(randomIds(100, FLEET.length))].map((index) => FLEET[index] as number);
      sending.push(
        driver.send(Date.now() - startedAt < FIRST_MS ? [...ids, ...FIRST_IDS.slice(i * 20, i * 20 + 20)] : ids),
      );
      await look();
      await sleep(Math.max(0, startedAt + (i + 1) * 1_000 - Date.now()));
    }
    await Promise.all(sending);
    const lastFirstAnsweredAt = Math.max(...FIRST_IDS.map((id) => driver.lastAcceptedAnsweredAt.get(id) ?? 0));
    while (Date.now() < lastFirstAnsweredAt + TTL_MS + CLEANUP_INTERVAL_MS + CLEANUP_RUN_MS + 1_000) {
      await look();
      await sleep(500);
    }
    const firstLeft = (await harness.lastSeen(FIRST_IDS)).size;
    t.diagnostic(
      `callbacks ${JSON.stringify(driver.callbacks)}; ${newestRow.size} rows seen; ` +
        `lapsed early ${early.length} ${early.slice(0, 5).join(', ')}; ` +
        `lapsed late ${late.length} ${late.slice(0, 5).join(', ')}; lost ${lost.length} ${lost.slice(0, 5).join(', ')}`,
    );
    assert.equal(driver.callbacks.refused + driver.callbacks.unanswered, 0, 'every callback accepted');
    assert.ok(
      FIRST_IDS.every((id) => newestRow.has(id)),
      "every first object's row appeared",
    );
    assert.equal(firstLeft, 0, 'the first objects, never sighted again, expired');
    assert.deepEqual(early, [], 'no row lapsed before the TTL after its newest sighting');
    assert.deepEqual(late, [], 'no row outlived the TTL and a cleanup interval after its last_seen');
    assert.deepEqual(lost, [], 'every object sighted within the TTL kept its row');
  });
});
