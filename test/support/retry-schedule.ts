import assert from 'node:assert/strict';

/** The wait before each retry: `initialMs`, doubling, capped at `maxMs`. */
export const doublingBackoff = (initialMs: number, maxMs: number, retries: number): number[] =>
  Array.from({ length: retries }, (_, i) => Math.min(initialMs * 2 ** i, maxMs));

/** The time between consecutive attempts, in ms. */
export const gapsOf = (attemptTimes: number[]): number[] =>
  attemptTimes.slice(1).map((time, i) => time - attemptTimes[i]!);

/**
 * Asserts that attempts arrived, by this machine's clock, after exactly these backoffs: each
 * retry no sooner than its backoff after the attempt before it, and no later than `slackMs` more,
 * so that a cap higher than the one named (a backoff still doubling) fails.
 */
export function assertBackoff(what: string, attemptTimes: number[], backoffMs: number[], slackMs: number): void {
  const gaps = gapsOf(attemptTimes);
  const shown = `gaps ${gaps.join(', ')} ms, backoffs ${backoffMs.join(', ')} ms`;
  assert.equal(gaps.length, backoffMs.length, `${what}: ${attemptTimes.length} attempts; ${shown}`);
  gaps.forEach((gap, i) => {
    assert.ok(gap >= backoffMs[i]!, `${what}: retry ${i + 1} came before its backoff; ${shown}`);
    assert.ok(
      gap <= backoffMs[i]! + slackMs,
      `${what}: retry ${i + 1} came more than ${slackMs} ms after its backoff; ${shown}`,
    );
  });
}
