import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { checkInterval, signalRestMs } from '../../src/worker/check-interval';

describe('check interval', () => {
  it("rests an id until its workflow's next check is due: the interval and a second, or sooner if its row would lapse", () => {
    const restMs = signalRestMs({ minMs: 20_000, maxRowAgeMs: 22_000 });
    const now = Date.now();
    assert.ok(Math.abs(restMs(now) - 21_000) < 50, 'a fresh sighting: the interval and a second');
    assert.ok(Math.abs(restMs(now - 4_000) - 18_000) < 50, 'a sighting 4 s old: its row would lapse first');
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
