import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { sendCallback, type CallbackResult } from '../dev/tester/callback-sender';
import { percentiles } from '../dev/tester/percentiles';
import { summarizeAcks, type AckSummary } from './load';
import { watchReceiptToRow } from './receipt-to-row';

/** The object service's slowest answer (docs/contract.md): a row can come no sooner after its sighting. */
export const UPSTREAM_MAX_MS = 4_300;
/** How recent a sighting must be to be owed its row when looked for, and how late it is looked for. */
const SIGHTED_WITHIN_MS = 28_000;
const LOOK_AFTER_LAST_MS = 7_000;
/** How far `last_seen` may be from the sending time of the newest accepted callback carrying the id. */
const LAST_SEEN_TOLERANCE_MS = 1_500;

export interface FleetResult {
  acks: AckSummary;
  /** Ids in accepted callbacks: the sightings the system took on. */
  sightingsAccepted: number;
  /** Online objects sighted in an accepted callback within 28 s of the last callback. */
  sightedOnline: number;
  /** Of those, 7 s after the last callback: without a row, and with a row older than their newest sighting. */
  missing: number;
  behind: number;
  receiptToRow: ReturnType<typeof percentiles>;
  /** Every sighted online object has its up-to-date row, and receipt-to-row p99 <= upstream + 1 s. */
  keptUp: boolean;
}

/**
 * The load of the fleet scenario: `callbacksPerSecond` callbacks, each of 1 to 200 distinct
 * random ids of a fleet of `fleetSize` (ids 0..fleetSize-1), 1 s client timeout, no retries,
 * for `seconds`. Then, 7 s after the last callback, every online object sighted within the last
 * 28 s must have its row with `last_seen` at its newest accepted sighting (within 1.5 s of when
 * that callback was sent; its receipt time lies between sending and answer).
 */
export async function fleetLoad(options: {
  callbackUrl: string;
  watchUrl: string;
  fleetSize: number;
  callbacksPerSecond: number;
  seconds: number;
  isOnline: (id: number) => boolean;
}): Promise<FleetResult> {
  const { callbackUrl, watchUrl, fleetSize, callbacksPerSecond, seconds, isOnline } = options;
  const watching = watchReceiptToRow(watchUrl, seconds + LOOK_AFTER_LAST_MS / 1000);
  // The watcher ignores what its first poll sees; let it happen before the first sighting.
  await sleep(200);
  const newestAcceptedSentAt = new Map<number, number>();
  const results: CallbackResult[] = [];
  const sending: Array<Promise<void>> = [];
  const intervalMs = 1_000 / callbacksPerSecond;
  const startedAt = Date.now();
  let lastSentAt = startedAt;
  for (let i = 0; Date.now() - startedAt < seconds * 1000; i += 1) {
    const ids = randomIds(fleetSize, 1 + Math.floor(Math.random() * 200));
    const sentAt = Date.now();
    lastSentAt = sentAt;
    sending.push(
      sendCallback(callbackUrl, ids).then((result) => {
        results.push(result);
        if (!result.ok) return;
        for (const id of ids) newestAcceptedSentAt.set(id, Math.max(sentAt, newestAcceptedSentAt.get(id) ?? 0));
      }),
    );
    await sleep(Math.max(0, startedAt + (i + 1) * intervalMs - Date.now()));
  }
  await Promise.all(sending);
  await sleep(Math.max(0, lastSentAt + LOOK_AFTER_LAST_MS - Date.now()));
  const owed = [...newestAcceptedSentAt].filter(
    ([id, sentAt]) => isOnline(id) && sentAt >= lastSentAt - SIGHTED_WITHIN_MS,
  );
  const rows = await lastSeenOf(
    watchUrl,
    owed.map(([id]) => id),
  );
  const missing = owed.filter(([id]) => !rows.has(id)).length;
  const behind = owed.filter(
    ([id, sentAt]) => rows.has(id) && (rows.get(id) as number) < sentAt - LAST_SEEN_TOLERANCE_MS,
  ).length;
  const receiptToRow = percentiles(await watching);
  return {
    acks: summarizeAcks(results),
    sightingsAccepted: results.filter((result) => result.ok).reduce((sum, result) => sum + result.ids, 0),
    sightedOnline: owed.length,
    missing,
    behind,
    receiptToRow,
    keptUp: missing === 0 && behind === 0 && receiptToRow.p99 <= UPSTREAM_MAX_MS + 1_000,
  };
}

function randomIds(fleetSize: number, count: number): number[] {
  const ids = new Set<number>();
  while (ids.size < Math.min(count, fleetSize)) ids.add(Math.floor(Math.random() * fleetSize));
  return [...ids];
}

async function lastSeenOf(databaseUrl: string, ids: number[]): Promise<Map<number, number>> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: number; last_seen: Date }>(
      'SELECT id, last_seen FROM objects WHERE id = ANY($1)',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.last_seen.getTime()]));
  } finally {
    await db.end();
  }
}
