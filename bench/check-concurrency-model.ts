/**
 * A model, not a measurement: how receipt-to-row and the number of status checks would change if
 * an object's workflow ran up to K checks at once instead of one (docs/performance.md). It
 * replays the realistic-10x load (a callback every 0.5 s carrying a given id with probability
 * 0.975: the bench's callbacks held 97.5 of the 100 ids on average) against upstream latencies
 * of 0.3-4.3 s, plus a fixed overhead for the ack and the dispatch, and coalesces sightings like
 * the workflow does.
 *   node --import tsx bench/check-concurrency-model.ts
 */
import { percentiles } from '../dev/tester/percentiles';

const SECONDS = 120;
const CALLBACK_PERIOD_S = 0.5;
const ID_IN_CALLBACK = 0.975;
const OVERHEAD_S = 0.35;

/** A seeded generator, so every K sees the same sightings and latencies. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function simulate(maxChecks: number): { p50: number; p99: number; checks: number } {
  const next = random(42);
  const delays: number[] = [];
  let checks = 0;
  for (let object = 0; object < 100; object += 1) {
    const sightings: number[] = [];
    for (let t = 0; t < SECONDS; t += CALLBACK_PERIOD_S) if (next() < ID_IN_CALLBACK) sightings.push(t);
    const done: Array<{ at: number; receipt: number }> = [];
    const running: number[] = [];
    let pending: number | undefined;
    let nextSighting = 0;
    for (;;) {
      const sighting = sightings[nextSighting];
      const firstEnd = running.length > 0 ? Math.min(...running) : Infinity;
      if (sighting === undefined && firstEnd === Infinity) break;
      let now: number;
      if (sighting !== undefined && sighting <= firstEnd) {
        now = sighting;
        nextSighting += 1;
        pending = sighting;
      } else {
        now = firstEnd;
        running.splice(running.indexOf(firstEnd), 1);
      }
      // The newest waiting sighting takes a free slot; sightings meanwhile coalesce into it.
      if (pending !== undefined && running.length < maxChecks) {
        const at = now + OVERHEAD_S + 0.3 + 4 * next();
        running.push(at);
        done.push({ at, receipt: pending });
        pending = undefined;
        checks += 1;
      }
    }
    // What bench/receipt-to-row.ts sees: each time last_seen moves forward, how old the receipt
    // it moved to is. A check finishing after a newer one does not move it.
    let lastSeen = -Infinity;
    for (const { at, receipt } of done.sort((a, b) => a.at - b.at)) {
      if (receipt <= lastSeen || receipt > SECONDS - 10) continue;
      lastSeen = receipt;
      delays.push((at - receipt) * 1000);
    }
  }
  const { p50, p99 } = percentiles(delays);
  return { p50: p50 / 1000, p99: p99 / 1000, checks };
}

for (const maxChecks of [1, 2, 3, 4, 100]) {
  const { p50, p99, checks } = simulate(maxChecks);
  console.log(`K=${maxChecks}: receipt-to-row p50 ${p50.toFixed(1)} s, p99 ${p99.toFixed(1)} s, ${checks} checks`);
}
