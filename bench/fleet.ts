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
/** For this long at the start, callbacks draw from other objects, whose rows must then expire. */
const EXPIRING_PHASE_MS = 8_000;
const EXPIRING_OBJECTS = 300;
/** How far `last_seen` may be from the sending time of the newest accepted callback carrying the id. */
const LAST_SEEN_TOLERANCE_MS = 1_500;

export interface FleetResult {
  acks: AckSummary;
  /** Ids in accepted callbacks: the sightings the system took on. */
  sightingsAccepted: number;
  /** Online objects sighted in an accepted callback within 28 s of the first look, 7 s after the last callback. */
  sightedOnline: number;
  /** Of those, 7 s after the last callback: without a row, and with a row older than their newest sighting. */
  missing: number;
  /** How long before the first look the missing objects' newest sightings were sent. */
  missingSightedSecondsAgo: number[];
  behind: number;
  /** How far the rows furthest behind their newest sighting trailed it, in seconds: what an interval costs. */
  trailsByMaxS: number;
  receiptToRow: ReturnType<typeof percentiles>;
  /** Rows, when looked for, of offline objects, and of the first seconds' objects, which should have expired. */
  offlineRows: number;
  notExpired: number;
  /**
   * When the rows were first up to date, in seconds after the last callback: the look repeats
   * each second until `settleWithinS`. `missing` and `behind` are the first look's, 7 s after.
   */
  upToDateAfterS?: number;
  /** The faults the scenario caused, with when they began and how long they took, in seconds from the first callback. */
  faults?: Array<{ name: string; atS: number; tookS: number }>;
  /** Every sighted online object has its up-to-date row, and receipt-to-row p99 <= upstream + 1 s. */
  keptUp: boolean;
}

/** Something a scenario does to the system while the load runs: a crash, an outage. */
export interface FleetFault {
  name: string;
  /** Seconds after the first callback. */
  atS: number;
  cause(): Promise<void>;
}

/**
 * The load of the fleet scenario: `callbacksPerSecond` callbacks, each of 1 to 200 distinct
 * random ids of a fleet of `fleetSize` (ids 0..fleetSize-1), 1 s client timeout, no retries,
 * for `seconds`; for the first 8 s the ids come from 300 other objects, which are not sighted
 * again. Then, 7 s after the last callback, every online object sighted within 28 s of that look
 * must have its row with `last_seen` at its newest accepted sighting (within 1.5 s of when that
 * callback was sent; its receipt time lies between sending and answer), no offline object a
 * row, and the first 8 s' objects none either. With `settleWithinS`, the look repeats each
 * second until the rows are up to date or that many seconds after the last callback have passed.
 */
export async function fleetLoad(options: {
  callbackUrl: string;
  watchUrl: string;
  fleetSize: number;
  callbacksPerSecond: number;
  seconds: number;
  isOnline: (id: number) => boolean;
  faults?: FleetFault[];
  settleWithinS?: number;
}): Promise<FleetResult> {
  const { callbackUrl, watchUrl, fleetSize, callbacksPerSecond, seconds, isOnline } = options;
  const settleWithinMs = Math.max(LOOK_AFTER_LAST_MS, (options.settleWithinS ?? 0) * 1000);
  const watching = watchReceiptToRow(watchUrl, seconds + settleWithinMs / 1000);
  // The watcher ignores what its first poll sees; let it happen before the first sighting.
  await sleep(200);
  const newestAcceptedSentAt = new Map<number, number>();
  const results: CallbackResult[] = [];
  const sending: Array<Promise<void>> = [];
  const intervalMs = 1_000 / callbacksPerSecond;
  const startedAt = Date.now();
  const faults = (options.faults ?? []).map(async ({ name, atS, cause }) => {
    await sleep(atS * 1000);
    const began = Date.now();
    await cause();
    return { name, atS: round((began - startedAt) / 1000), tookS: round((Date.now() - began) / 1000) };
  });
  let lastSentAt = startedAt;
  for (let i = 0; Date.now() - startedAt < seconds * 1000; i += 1) {
    const count = 1 + Math.floor(Math.random() * 200);
    const ids =
      Date.now() - startedAt < EXPIRING_PHASE_MS
        ? randomIds(EXPIRING_OBJECTS, count).map((id) => fleetSize + id)
        : randomIds(fleetSize, count);
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
  const faultsCaused = await Promise.all(faults);
  const sighted = [...newestAcceptedSentAt].filter(([id]) => id < fleetSize && isOnline(id));
  await sleep(Math.max(0, lastSentAt + LOOK_AFTER_LAST_MS - Date.now()));
  const { at: firstLookAt, owed, ...rows } = await lookAtRows(watchUrl, sighted, fleetSize, isOnline);
  let look = { at: firstLookAt, ...rows };
  while ((look.missing > 0 || look.behind > 0) && Date.now() + 1_000 <= lastSentAt + settleWithinMs) {
    await sleep(1_000);
    look = await lookAtRows(watchUrl, sighted, fleetSize, isOnline);
  }
  const receiptToRow = percentiles(await watching);
  const upToDate = rows.missing === 0 && rows.behind === 0;
  return {
    acks: summarizeAcks(results),
    sightingsAccepted: results.filter((result) => result.ok).reduce((sum, result) => sum + result.ids, 0),
    sightedOnline: owed,
    ...rows,
    receiptToRow,
    ...(look.missing === 0 && look.behind === 0 && { upToDateAfterS: round((look.at - lastSentAt) / 1000) }),
    ...(faultsCaused.length > 0 && { faults: faultsCaused }),
    keptUp: upToDate && rows.offlineRows === 0 && rows.notExpired === 0 && receiptToRow.p99 <= UPSTREAM_MAX_MS + 1_000,
  };
}

/**
 * Of the online objects sighted within 28 s of now (an older sighting's row may rightly have
 * expired): those without a row, with how long ago their newest sighting was sent, and those
 * behind it; and rows that should not be there.
 */
async function lookAtRows(
  databaseUrl: string,
  sighted: Array<[id: number, sentAt: number]>,
  fleetSize: number,
  isOnline: (id: number) => boolean,
) {
  const rows = await lastSeenOf(databaseUrl);
  const at = Date.now();
  const owed = sighted.filter(([, sentAt]) => sentAt >= at - SIGHTED_WITHIN_MS);
  const missing = owed.filter(([id]) => !rows.has(id));
  const trails = owed.map(([id, sentAt]) => (rows.has(id) ? sentAt - (rows.get(id) as number) : 0));
  return {
    at,
    owed: owed.length,
    missing: missing.length,
    missingSightedSecondsAgo: missing.map(([, sentAt]) => round((at - sentAt) / 1000)).sort((a, b) => a - b),
    behind: owed.filter(([id, sentAt]) => rows.has(id) && (rows.get(id) as number) < sentAt - LAST_SEEN_TOLERANCE_MS)
      .length,
    trailsByMaxS: round(Math.max(0, ...trails) / 1000),
    offlineRows: [...rows.keys()].filter((id) => !isOnline(id)).length,
    notExpired: [...rows.keys()].filter((id) => id >= fleetSize).length,
  };
}

const round = (seconds: number) => Math.round(seconds * 10) / 10;

function randomIds(fleetSize: number, count: number): number[] {
  const ids = new Set<number>();
  while (ids.size < Math.min(count, fleetSize)) ids.add(Math.floor(Math.random() * fleetSize));
  return [...ids];
}

async function lastSeenOf(databaseUrl: string): Promise<Map<number, number>> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: number; last_seen: Date }>('SELECT id, last_seen FROM objects');
    return new Map(rows.map((row) => [row.id, row.last_seen.getTime()]));
  } finally {
    await db.end();
  }
}
