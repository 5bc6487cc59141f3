import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { checkInterval, signalRestMs } from '../../src/worker/check-interval';

describe('check interval', () => {
  it("rests an id until its workflow's next check is due: the interval and the check's start, or sooner if its row would lapse", () => {
    // A clock that stands still: each rest is then exact.
    const now = Date.UTC(2026, 0, 1);
    const restMs = signalRestMs({ minMs: 20_000, maxRowAgeMs: 22_000 }, () => now);
    // Checks start at least the interval apart (docs/contract.md §3), counted from the check this
    // signal brings; the rest ends a second past that, so the next signal finds the check due and
    // waits on no timer (docs/performance.md), and no later, so `last_seen` trails by no more.
    assert.equal(restMs(now), 21_000, 'a fresh sighting');
    // Its row would lapse 22 s after the receipt, 18 s from now: sooner than the interval.
    assert.equal(restMs(now - 4_000), 18_000, 'a sighting 4 s old');
  });

  it("checks a sighted object's row before it could lapse by any of the clocks up to 2 s apart", () => {
    // The TTL (30 s) less a cleanup interval (3 s), an answer (5 s) and the clocks' skew (2 s).
    assert.deepEqual(checkInterval(loadConfig({ MIN_CHECK_INTERVAL_SECONDS: '20' })), {
      minMs: 20_000,
      maxRowAgeMs: 20_000,
    });
    assert.equal(checkInterval(loadConfig({})), undefined);
  });
});
