import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Settles like `work`, or rejects once `ms` have passed. Client libraries' own deadlines do not
 * cover everything (the Temporal SDK's gRPC retry backs off on timers that ignore the call's
 * deadline; a pg pool waits for a connection on its own clock), so the caller enforces its own.
 * It stops the waiting, not the work: use it only where work that goes on, and may land, later is
 * harmless (a probe, or an answer that says nothing of the work).
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  const timer = new AbortController();
  const deadlinePassed = sleep(ms, undefined, { signal: timer.signal }).then(() => {
    throw new Error(`no answer from ${what} within ${ms} ms`);
  });
  deadlinePassed.catch(() => undefined);
  try {
    return await Promise.race([work, deadlinePassed]);
  } finally {
    timer.abort();
  }
}
