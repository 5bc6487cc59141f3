import { setTimeout as sleep } from 'node:timers/promises';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client } from 'pg';
import { sendCallback, type CallbackResult } from '../dev/tester/callback-sender';
import { eventually } from '../dev/support/wait';
import { freshIds, summarizeAcks, type AckSummary } from './load';
import type { RunningSystem } from './systems';

export interface OutboxAckResult {
  acks: AckSummary;
  callbacksAccepted: number;
  idsAccepted: number;
  /** From the kill until the API's readiness said `degraded` (callbacks go to the outbox only). */
  degradedAfterS: number;
  /** Rows in `callback_outbox` once every callback was answered. */
  outboxAfterPosting: number;
  /** From the kill until the restarted server served again. */
  downS: number;
  /** From the restart until the server served. */
  restartS: number;
  /** From the server serving again until `callback_outbox` was empty; NaN when it was not within the time-out. */
  drainS: number;
  drained: boolean;
  /** Rows in `callback_outbox` once a second after the restart. */
  outboxOverTime: Array<[seconds: number, rows: number]>;
  /** `callbackWorkflow` executions the server has for the callbacks posted while it was down. */
  callbackWorkflows: number;
  /** Online ids of accepted callbacks, and how many of them have their row. */
  expectedRows: number;
  rows: number;
  rowsComplete: boolean;
  /** From the server serving again until the last row, or until the time-out. */
  rowsAfterS: number;
  /** The measurement restarted the server: its request counters do not compare across it. */
  serverRestarted: true;
}

/**
 * Ack latency while the project's Temporal server is down: the outbox path. Kills the dev server
 * (SIGKILL), waits for the API to notice, posts `callbacksPerSender` callbacks of `idsPerCallback`
 * new ids from each of `senders` clients back to back, then starts the server again on the same
 * port and database file and times the outbox's drain, then the rows of the accepted ids.
 */
export async function ackWhileTemporalIsDown(
  system: RunningSystem,
  options: {
    senders: number;
    callbacksPerSender: number;
    idsPerCallback: number;
    clientTimeoutMs: number;
    isOnline: (id: number) => boolean;
    drainTimeoutS: number;
    rowsTimeoutS: number;
  },
): Promise<OutboxAckResult> {
  const { temporal, callbackUrl, benchDatabaseUrl } = system;
  if (!temporal) throw new Error('this system has no Temporal server to kill');
  const db = new Client({ connectionString: benchDatabaseUrl });
  db.on('error', () => undefined);
  await db.connect();
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n);
  const outboxRows = () => count('SELECT count(*) AS n FROM callback_outbox');
  const callbackWorkflows = () => countCallbackWorkflows(temporal.address);
  try {
    const workflowsBefore = await callbackWorkflows();
    const killedAt = performance.now();
    const secondsSince = (since: number) => Math.round((performance.now() - since) / 100) / 10;
    await temporal.kill();
    const readyzUrl = new URL('/readyz', callbackUrl).toString();
    await eventually(
      async () => ((await (await fetch(readyzUrl)).json()) as { status?: string }).status === 'degraded' || undefined,
      'the API to see Temporal gone',
      30_000,
    );
    const degradedAfterS = secondsSince(killedAt);

    const next = freshIds(0);
    const results: CallbackResult[] = [];
    const acceptedIds: number[] = [];
    await Promise.all(
      Array.from({ length: options.senders }, async () => {
        for (let i = 0; i < options.callbacksPerSender; i += 1) {
          const ids = next(options.idsPerCallback);
          const result = await sendCallback(callbackUrl, ids, options.clientTimeoutMs);
          results.push(result);
          if (result.ok) acceptedIds.push(...ids);
        }
      }),
    );
    const outboxAfterPosting = await outboxRows();

    const restarting = performance.now();
    await temporal.restart();
    const up = performance.now();
    const outboxOverTime: Array<[number, number]> = [];
    let waiting = await outboxRows();
    while (waiting > 0 && secondsSince(up) < options.drainTimeoutS) {
      await sleep(250);
      waiting = await outboxRows();
      const second = Math.floor(secondsSince(up));
      if (second > (outboxOverTime.at(-1)?.[0] ?? -1)) outboxOverTime.push([second, waiting]);
    }
    const drainS = waiting === 0 ? secondsSince(up) : NaN;

    const online = acceptedIds.filter(options.isOnline);
    const rowsOf = () => count('SELECT count(*) AS n FROM objects WHERE id = ANY($1)', [online]);
    let rows = await rowsOf();
    while (rows < online.length && secondsSince(up) < options.rowsTimeoutS) {
      await sleep(500);
      rows = await rowsOf();
    }
    return {
      acks: summarizeAcks(results),
      callbacksAccepted: results.filter((result) => result.ok).length,
      idsAccepted: acceptedIds.length,
      degradedAfterS,
      outboxAfterPosting,
      downS: Math.round((up - killedAt) / 100) / 10,
      restartS: Math.round((up - restarting) / 100) / 10,
      drainS,
      drained: waiting === 0,
      outboxOverTime,
      callbackWorkflows: (await callbackWorkflows()) - workflowsBefore,
      expectedRows: online.length,
      rows,
      rowsComplete: rows >= online.length,
      rowsAfterS: secondsSince(up),
      serverRestarted: true,
    };
  } finally {
    await db.end();
  }
}

/** Callback workflows the server has recorded, running or closed. */
async function countCallbackWorkflows(address: string): Promise<number> {
  const connection = await Connection.connect({ address });
  try {
    return (await new TemporalClient({ connection }).workflow.count(`WorkflowType = 'callbackWorkflow'`)).count;
  } finally {
    await connection.close();
  }
}
