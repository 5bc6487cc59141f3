import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { sendCallback, startCallbackSender, type CallbackResult } from '../dev/tester/callback-sender';
import { percentiles } from '../dev/tester/percentiles';
import { watchReceiptToRow } from './receipt-to-row';

export const IDS_PER_CALLBACK = 200;

/** Consecutive ids never used before in this stack: each one is new work for the system. */
export function freshIds(first: number): (count: number) => number[] {
  let next = first;
  return (count) => Array.from({ length: count }, () => next++);
}

export interface AckSummary {
  callbacks: number;
  /** Callbacks not answered 2xx within the client timeout: for the tester, lost sightings. */
  failed: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
}

export function summarizeAcks(results: CallbackResult[]): AckSummary {
  const statuses: Record<string, number> = {};
  for (const { status, error } of results) {
    const key =
      status === undefined
        ? error?.includes('abort') || error?.includes('timeout')
          ? 'timeout'
          : 'error'
        : String(status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const { p50, p99, max } = percentiles(results.map((result) => result.latencyMs));
  return { callbacks: results.length, failed: results.filter((result) => !result.ok).length, statuses, p50, p99, max };
}

/**
 * `senders` clients, each posting its callbacks back to back (a closed loop, like autocannon -c);
 * sender k posts the ids `idsFor(k)` returns.
 */
export async function closedLoop(
  callbackUrl: string,
  senders: number,
  callbacksPerSender: number,
  idsFor: (sender: number) => number[],
  timeoutMs: number,
): Promise<CallbackResult[]> {
  const results: CallbackResult[] = [];
  await Promise.all(
    Array.from({ length: senders }, async (_, sender) => {
      for (let i = 0; i < callbacksPerSender; i += 1)
        results.push(await sendCallback(callbackUrl, idsFor(sender), timeoutMs));
    }),
  );
  return results;
}

/** Runs `attempt` until it succeeds or the deadline passes, 100 ms apart; counts the attempts after the first. */
export async function retryUntil(
  attempt: () => Promise<boolean>,
  deadline: number,
): Promise<{ ok: boolean; retries: number }> {
  for (let retries = 0; ; retries += 1) {
    if (await attempt()) return { ok: true, retries };
    if (performance.now() >= deadline) return { ok: false, retries };
    await sleep(100);
  }
}

/**
 * `senders` clients sharing one list: each takes the next item as soon as it is done with its
 * last, until the list is done or the deadline passes.
 */
export async function fromSharedList<T>(
  items: readonly T[],
  senders: number,
  deadline: number,
  send: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < items.length && performance.now() < deadline) {
        const item = items[next] as T;
        next += 1;
        await send(item);
      }
    }),
  );
}

/**
 * Gets ids accepted in callbacks of `idsPerCallback` from `senders` clients, each reposted until
 * accepted (the ids of a 503 may be partly recorded); stops when the deadline passes.
 */
export async function postAll(
  callbackUrl: string,
  ids: number[],
  idsPerCallback: number,
  senders: number,
  deadline: number,
): Promise<{ accepted: number; retries: number }> {
  const callbacks = Array.from({ length: Math.ceil(ids.length / idsPerCallback) }, (_, i) =>
    ids.slice(i * idsPerCallback, (i + 1) * idsPerCallback),
  );
  const totals = { accepted: 0, retries: 0 };
  await fromSharedList(callbacks, senders, deadline, async (objectIds) => {
    const { ok, retries } = await retryUntil(
      async () => (await sendCallback(callbackUrl, objectIds, 10_000)).ok,
      deadline,
    );
    totals.retries += retries;
    if (ok) totals.accepted += objectIds.length;
  });
  return totals;
}

export interface EndToEndResult {
  ids: number;
  idsPerCallback: number;
  expectedRows: number;
  rows: number;
  complete: boolean;
  /** Callbacks answered other than 2xx and posted again. */
  retries: number;
  /** Ids whose callback was accepted, and when the last one was (the durable-recording rate). */
  accepted: number;
  acceptedAllAfterS: number;
  seconds: number;
  /** Over the whole run when complete; otherwise the rate at which ids were done before the timeout. */
  idsPerSecond: number;
  /** Rows in the table once a second: shows whether the rate holds or tails off. */
  rowsOverTime: Array<[seconds: number, rows: number]>;
}

/**
 * Posts `ids` distinct ids in callbacks of `idsPerCallback` from `senders` clients, reposting any
 * callback not accepted, and times from the first callback until every online id has its row.
 */
export async function endToEnd(options: {
  callbackUrl: string;
  databaseUrl: string;
  ids: number;
  idsPerCallback: number;
  senders: number;
  isOnline: (id: number) => boolean;
  timeoutS: number;
}): Promise<EndToEndResult> {
  const { callbackUrl, databaseUrl, ids, idsPerCallback, senders, isOnline, timeoutS } = options;
  const all = Array.from({ length: ids }, (_, id) => id);
  const expectedRows = all.filter(isOnline).length;
  const db = new Client({ connectionString: databaseUrl });
  // A lost connection fails the next query, and with it this scenario only.
  db.on('error', () => undefined);
  await db.connect();
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1000;
  const deadline = started + timeoutS * 1000;
  let acceptedAllAfterS = NaN;
  const posting = postAll(callbackUrl, all, idsPerCallback, senders, deadline).then((totals) => {
    acceptedAllAfterS = elapsedS();
    return totals;
  });

  const rowsOverTime: Array<[number, number]> = [];
  let rows = 0;
  try {
    while (rows < expectedRows && performance.now() < deadline) {
      await sleep(100);
      rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM objects')).rows[0]?.n);
      const second = Math.floor(elapsedS());
      if (second > (rowsOverTime.at(-1)?.[0] ?? -1)) rowsOverTime.push([second, rows]);
    }
  } finally {
    await db.end();
  }
  const seconds = elapsedS();
  const { accepted, retries } = await posting;
  const complete = rows >= expectedRows;
  return {
    ids,
    idsPerCallback,
    expectedRows,
    rows,
    complete,
    retries,
    accepted,
    acceptedAllAfterS: Math.round(acceptedAllAfterS * 10) / 10,
    seconds: Math.round(seconds * 10) / 10,
    idsPerSecond: Math.round((ids * Math.min(1, rows / expectedRows)) / seconds),
    rowsOverTime,
  };
}

export interface RealisticResult {
  acks: AckSummary;
  /** Ids in callbacks that were answered 2xx, counting repeats inside a callback. */
  idsAccepted: number;
  receiptToRow: ReturnType<typeof percentiles>;
}

/**
 * The tester's pattern (up to 200 random ids in 0..99 per callback, 1 s client timeout, no
 * retries), one callback every `intervalMs`, while the table is watched for receipt-to-row delay.
 */
export async function realistic(options: {
  callbackUrl: string;
  watchUrl: string;
  seconds: number;
  intervalMs: number;
  drainS: number;
}): Promise<RealisticResult> {
  const { callbackUrl, watchUrl, seconds, intervalMs, drainS } = options;
  const watching = watchReceiptToRow(watchUrl, seconds + drainS);
  // The watcher ignores what its first poll sees; let it happen before the first sighting.
  await sleep(200);
  const results: CallbackResult[] = [];
  const sender = startCallbackSender({ callbackUrl, intervalMs, onResult: (result) => results.push(result) });
  await sleep(seconds * 1000);
  sender.stop();
  const delays = await watching;
  return {
    acks: summarizeAcks(results),
    idsAccepted: results.filter((result) => result.ok).reduce((sum, result) => sum + result.ids, 0),
    receiptToRow: percentiles(delays),
  };
}
