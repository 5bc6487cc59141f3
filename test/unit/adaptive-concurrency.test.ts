import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { AdaptiveConcurrency } from '../../src/activities/adaptive-concurrency';

describe('adaptive concurrency', () => {
  const options = { initial: 4, min: 2, max: 10, tolerance: 2, floorMs: 5 };

  /** Runs `calls` calls of `durationMs` each; returns the most that ran at once. */
  async function peakOf(limit: AdaptiveConcurrency, calls: number, durationMs: number, fail = false): Promise<number> {
    let running = 0;
    let peak = 0;
    await Promise.allSettled(
      Array.from({ length: calls }, () =>
        limit.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await sleep(durationMs);
          running -= 1;
          if (fail) throw new Error('refused');
        }),
      ),
    );
    return peak;
  }

  it('never runs more calls at once than the limit', async () => {
    const limit = new AdaptiveConcurrency({ ...options, max: 4 });
    assert.equal(await peakOf(limit, 40, 5), 4);
  });

  it('grows while calls are answered as fast as ever, up to the maximum', async () => {
    const limit = new AdaptiveConcurrency(options);
    await peakOf(limit, 200, 1);
    assert.equal(limit.current, 10);
  });

  it('takes a slow but steady service as it is: the round trip is no queue', async () => {
    const limit = new AdaptiveConcurrency(options);
    await peakOf(limit, 60, 30);
    assert.ok(limit.current > 4, `steady 30 ms calls: ${limit.current}`);
  });

  it('shrinks when calls slow down against the quickest, or fail, down to the minimum', async () => {
    const slowing = new AdaptiveConcurrency(options);
    await peakOf(slowing, 8, 10);
    const before = slowing.current;
    await peakOf(slowing, 8, 60);
    assert.ok(slowing.current < before, `slower calls: ${before} → ${slowing.current}`);
    const failing = new AdaptiveConcurrency(options);
    for (let i = 0; i < 10; i += 1) await peakOf(failing, 4, 10, true);
    assert.equal(failing.current, 2);
  });
});
