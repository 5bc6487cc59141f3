import { Prisma } from '../generated/prisma/client';
import type { Database } from './prisma';
import type { AcceptedCallback } from '../workflows';

/** 14 hours of outage at the sender's pace, at most 2.5 GiB of bodies. */
export const OUTBOX_LIMIT = 10_000;

/** Counts the waiting callbacks up to the limit, never the whole table. */
const waitingUpToTheLimit = Prisma.sql`
  SELECT count(*)::integer AS waiting FROM (SELECT FROM callback_outbox LIMIT ${OUTBOX_LIMIT}::integer) AS taken`;

export interface OutboxState {
  callbacks: number;
  oldestReceivedAt?: Date;
}

export interface RelayPass {
  started: number;
  expired: number;
  /** The first start that failed: its row stays for a later pass. */
  failure?: unknown;
}

interface OutboxRow {
  ctid: string;
  workflow_id: string;
  object_ids: number[];
  received_at: Date;
  expired: boolean | null;
}

/** The outbox did not add the callback, and nothing of the attempt can add it later. */
export class NotAddedError extends Error {
  override name = 'NotAddedError';
}

/** PostgreSQL errs only on what did not commit; a connection lost after sending leaves it unknown. */
function nothingCommitted(error: unknown): boolean {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } }).meta
    ?.driverAdapterError?.cause;
  return cause?.originalCode !== undefined || cause?.kind === 'DatabaseNotReachable';
}

// Callbacks accepted while Temporal could not record them.
export class CallbackOutbox {
  constructor(private readonly db: Database) {}

  /**
   * Resolves with the ids waiting under the callback's workflow id (its own once added). NotAddedError:
   * not added and cannot be later; any other error: unknown.
   */
  async add(callback: AcceptedCallback): Promise<number[]> {
    try {
      // A callback added under the id between the statement's snapshot and its insert is found by a second.
      const waiting = (await this.insertUnlessWaiting(callback)) ?? (await this.insertUnlessWaiting(callback));
      if (waiting === undefined) throw new NotAddedError(`another insert under ${callback.workflowId} won, twice`);
      return waiting;
    } catch (error) {
      if (error instanceof NotAddedError || !nothingCommitted(error)) throw error;
      throw new NotAddedError((error as Error).message, { cause: error });
    }
  }

  /** One statement, which the pool's statement timeout cancels whole; undefined when a concurrent insert won. */
  private async insertUnlessWaiting({ workflowId, objectIds, receivedAtMs }: AcceptedCallback) {
    const [row] = await this.db.$queryRaw<Array<{ added: number[] | null; waiting: number[] | null; room: boolean }>>`
      WITH waiting AS (
        SELECT object_ids FROM callback_outbox WHERE workflow_id = ${workflowId}
      ), room AS (
        SELECT waiting < ${OUTBOX_LIMIT}::integer AS room FROM (${waitingUpToTheLimit}) AS counted
      ), added AS (
        INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
        SELECT ${workflowId}, ${objectIds}::integer[], ${new Date(receivedAtMs)}::timestamptz
        WHERE NOT EXISTS (SELECT FROM waiting) AND (SELECT room FROM room)
        ON CONFLICT (workflow_id) DO NOTHING
        RETURNING object_ids
      )
      SELECT (SELECT object_ids FROM added) AS added, (SELECT object_ids FROM waiting) AS waiting,
        (SELECT room FROM room) AS room`;
    const waiting = row?.added ?? row?.waiting ?? undefined;
    if (waiting === undefined && row?.room === false) {
      throw new NotAddedError(`the outbox is full: ${OUTBOX_LIMIT} callbacks wait for Temporal`);
    }
    return waiting;
  }

  /**
   * Starts the oldest callbacks no other relay holds, reading only those rows, and deletes them (the
   * expired without a start); a relay that dies leaves its locked rows to the next.
   */
  async relay(
    limit: number,
    start: (callback: AcceptedCallback) => Promise<void>,
    ttlSeconds: number,
  ): Promise<RelayPass> {
    return this.db.$transaction(
      async (transaction) => {
        const rows = await transaction.$queryRaw<OutboxRow[]>`
          SELECT ctid::text, workflow_id, object_ids, received_at,
            received_at < clock_timestamp() - ${ttlSeconds}::integer * interval '1 second' AS expired
          FROM callback_outbox ORDER BY received_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        const expired = rows.filter((row) => row.expired === true);
        const waiting = rows.filter((row) => row.expired !== true);
        const outcomes = await Promise.allSettled(
          waiting.map((row) =>
            start({ workflowId: row.workflow_id, objectIds: row.object_ids, receivedAtMs: row.received_at.getTime() }),
          ),
        );
        const started = waiting.filter((_, i) => outcomes[i]?.status === 'fulfilled');
        // By address, so the delete reads only these rows: by workflow id the planner scanned the table.
        const done = [...expired, ...started].map((row) => row.ctid);
        if (done.length > 0)
          await transaction.$executeRaw`DELETE FROM callback_outbox WHERE ctid = ANY(${done}::tid[])`;
        const failure = outcomes.find(
          (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
        )?.reason;
        return { started: started.length, expired: expired.length, failure };
      },
      { maxWait: 5_000, timeout: 60_000 },
    );
  }

  /** For the gauges: waiting callbacks counted up to the limit, and the oldest. */
  async state(): Promise<OutboxState> {
    const [row] = await this.db.$queryRaw<Array<{ callbacks: number; oldest: Date | null }>>`
      SELECT (${waitingUpToTheLimit}) AS callbacks,
        (SELECT received_at FROM callback_outbox ORDER BY received_at LIMIT 1) AS oldest`;
    return { callbacks: row?.callbacks ?? 0, oldestReceivedAt: row?.oldest ?? undefined };
  }
}
