import type { CheckOutcome } from './contracts';

export const readable = (epochMs: number): string => new Date(epochMs).toISOString();

const PRESENCE: Record<CheckOutcome | 'failed', (sightedAt: string) => string> = {
  recorded: (at) => `online, last seen ${at}`,
  'already-newer': (at) => `online at ${at}; a newer sighting was already recorded`,
  offline: (at) => `offline at the sighting of ${at}`,
  expired: (at) => `the sighting of ${at} expired before its check`,
  failed: (at) => `the object service rejected the check of the sighting of ${at}`,
};

/** An object workflow's current details: what the Web UI shows of the object and of its next check. */
export function objectDetails(state: {
  objectId: number;
  checks: number;
  checking: boolean;
  lastOutcome?: CheckOutcome | 'failed';
  checkedReceivedAtMs?: number;
  pendingReceivedAtMs?: number;
  dueAtMs: number;
}): string {
  const { objectId, checks, checking, lastOutcome, checkedReceivedAtMs, pendingReceivedAtMs, dueAtMs } = state;
  const found =
    lastOutcome && checkedReceivedAtMs !== undefined
      ? PRESENCE[lastOutcome](readable(checkedReceivedAtMs))
      : 'not checked yet';
  const waiting =
    pendingReceivedAtMs === undefined
      ? ''
      : `; a sighting of ${readable(pendingReceivedAtMs)} waits` +
        (dueAtMs > Date.now() ? `; next check due at ${readable(dueAtMs)}` : '');
  return `**Object ${objectId}**: ${found}\n\n${checks} check${checks === 1 ? '' : 's'} in this run; ${checking ? 'checking now' : 'idle'}${waiting}`;
}
