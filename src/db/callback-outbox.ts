import { Prisma } from '../generated/prisma/client';
import type { Database } from './prisma';
import type { AcceptedCallback } from '../workflows';

/**
 * Callbacks the outbox holds at most; past it, it adds none (inserts running at once may each take
 * the last room). At the sender's pace (a callback every 5 s) that is 14 hours of Temporal away, and
 * a body of at most 256 KiB keeps it under 2.5 GiB.
 */
export const OUTBOX_LIMIT = 10_000;

/** Counts the waiting callbacks up to the limit, never the whole table. */
const waitingUpToTheLimit = Prisma.sql`
  SELECT count(*)::integer AS waiting FROM (SELECT FROM callback_outbox LIMIT ${OUTBOX_LIMIT}::integer) AS taken`;

export interface OutboxState {
  /** At most OUTBOX_LIMIT. */
  callbacks: number;
  oldestReceivedAt?: Date;
}

export interface RelayPass {
  /** Callbacks that `start` took (it resolved), their rows deleted. */
  started: number;
  /** Callbacks older than the TTL, deleted without a start. */
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

/**
 * Whether PostgreSQL answered the insert with an error, which it does only for a transaction that did
 * not commit, or no connection was made, so nothing was sent. A connection lost after sending leaves
 * the commit unknown.
 */
function nothingCommitted(error: unknown): boolean {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } }).meta
    ?.driverAdapterError?.cause;
  return cause?.originalCode !== undefined || cause?.kind === 'DatabaseNotReachable';
}

// Callbacks accepted while Temporal could not record them.
export class CallbackOutbox {
  constructor(private readonly db: Database) {}

  /**
   * Adds the callback unless one waits under its workflow id already, and resolves with the ids that
   * wait under it: the callback's own, or those of the one found. Throws NotAddedError when it is not
   * added and cannot be any more (the outbox is full, PostgreSQL refused or cancelled the insert), any
   * other error when the outcome is unknown. Nothing cancels it but the pool's statement timeout: the
   * API's pool gives it the time left before its answer is due.
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

  /**
   * One statement, so one implicit transaction that PostgreSQL's statement timeout covers and ends
   * with. No interactive transaction: Prisma's loses its pool connection when the connection breaks
   * during one. Resolves with undefined when a concurrent insert under the id won.
   */
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
   * Takes up to `limit` of the oldest callbacks no other relay holds, in the order of the
   * `received_at` index: the pass reads only those rows. Deletes those older than `ttlSeconds` by the
   * database's clock and starts the others, deleting each that started.
   * Rows stay locked until the delete commits: concurrent relays take different rows, and a relay that
   * dies leaves its rows to the next, whose starts under the same workflow ids are no-ops.
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
        // By their row addresses, which hold while the rows are locked: the delete reads only them,
        // where a list of workflow ids lets the planner scan a table it deems small whole, every pass.
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

  /** What the gauges show: the waiting callbacks counted up to the limit, and the oldest by the index. */
  async state(): Promise<OutboxState> {
    const [row] = await this.db.$queryRaw<Array<{ callbacks: number; oldest: Date | null }>>`
      SELECT (${waitingUpToTheLimit}) AS callbacks,
        (SELECT received_at FROM callback_outbox ORDER BY received_at LIMIT 1) AS oldest`;
    return { callbacks: row?.callbacks ?? 0, oldestReceivedAt: row?.oldest ?? undefined };
  }
}
