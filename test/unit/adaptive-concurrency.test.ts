import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { AdaptiveConcurrency } from '../../src/activities/adaptive-concurrency';

describe('adaptive concurrency', () => {
  const options = { initial: 4, min: 2, max: 10, targetMs: 50 };

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

  it('grows while calls are answered fast, up to the maximum', async () => {
    const limit = new AdaptiveConcurrency(options);
    await peakOf(limit, 200, 1);
    assert.equal(limit.current, 10);
  });

  it('shrinks when calls get slow or fail, down to the minimum', async () => {
    const slow = new AdaptiveConcurrency(options);
    await peakOf(slow, 8, 60);
    assert.ok(slow.current < 4, `slow calls: ${slow.current}`);
    const failing = new AdaptiveConcurrency(options);
    for (let i = 0; i < 10; i += 1) await peakOf(failing, 4, 55, true);
    assert.equal(failing.current, 2);
  });
});
