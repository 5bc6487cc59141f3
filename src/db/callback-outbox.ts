import type { Database } from './prisma';
import type { AcceptedCallback } from '../workflows';

export interface OutboxState {
  callbacks: number;
  oldestReceivedAt?: Date;
}

interface OutboxRow {
  workflow_id: string;
  object_ids: number[];
  received_at: Date;
}

/** The outbox did not add the callback, and nothing of the attempt can add it later. */
export class NotAddedError extends Error {
  override name = 'NotAddedError';
}

// An escape string, whatever standard_conforming_strings says.
const literal = (text: string): string => `E'${text.replace(/[\\']/g, '\\$&')}'`;

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
   * Adds the callback, or throws: NotAddedError when it is not added and cannot be any more, any
   * other error when the outcome is unknown. PostgreSQL cancels the insert `timeoutMs` after it
   * starts, so an insert held up (by a lock, a slow disk) rolls back instead of committing later.
   */
  async add({ workflowId, objectIds, receivedAtMs }: AcceptedCallback, timeoutMs = 5_000): Promise<void> {
    if (timeoutMs < 1) throw new NotAddedError('no time left to add the callback');
    // One simple-protocol message, so literals, not parameters: PostgreSQL runs its statements as one
    // implicit transaction, which the local timeout covers and ends with. No interactive transaction:
    // Prisma's loses its pool connection when the connection breaks during one.
    const insert = `SET LOCAL statement_timeout = ${Math.floor(timeoutMs)};
      INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
      VALUES (${literal(workflowId)}, '{${objectIds.join(',')}}', ${literal(new Date(receivedAtMs).toISOString())})
      ON CONFLICT (workflow_id) DO NOTHING`;
    try {
      await this.db.$executeRawUnsafe(insert);
    } catch (error) {
      if (nothingCommitted(error)) throw new NotAddedError((error as Error).message, { cause: error });
      throw error;
    }
  }

  // Rows stay locked until the delete commits: concurrent relays take different rows, and a relay that
  // dies leaves its rows to the next, whose starts under the same workflow ids are no-ops.
  async relay(
    limit: number,
    start: (callback: AcceptedCallback) => Promise<void>,
  ): Promise<{ started: number; failure?: unknown }> {
    return this.db.$transaction(
      async (transaction) => {
        const rows = await transaction.$queryRaw<OutboxRow[]>`
          SELECT workflow_id, object_ids, received_at FROM callback_outbox
          ORDER BY received_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        const outcomes = await Promise.allSettled(
          rows.map((row) =>
            start({ workflowId: row.workflow_id, objectIds: row.object_ids, receivedAtMs: row.received_at.getTime() }),
          ),
        );
        const started = rows.filter((_, i) => outcomes[i]?.status === 'fulfilled').map((row) => row.workflow_id);
        if (started.length > 0) await transaction.outboxCallback.deleteMany({ where: { workflowId: { in: started } } });
        const failure = outcomes.find(
          (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
        )?.reason;
        return { started: started.length, failure };
      },
      { maxWait: 5_000, timeout: 60_000 },
    );
  }

  async state(): Promise<OutboxState> {
    const [row] = await this.db.$queryRaw<Array<{ callbacks: number; oldest: Date | null }>>`
      SELECT count(*)::int AS callbacks, min(received_at) AS oldest FROM callback_outbox`;
    return { callbacks: row?.callbacks ?? 0, oldestReceivedAt: row?.oldest ?? undefined };
  }
}
