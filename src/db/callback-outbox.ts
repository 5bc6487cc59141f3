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

// Callbacks accepted while Temporal could not record them.
export class CallbackOutbox {
  constructor(private readonly db: Database) {}

  async add({ workflowId, objectIds, receivedAtMs }: AcceptedCallback): Promise<void> {
    await this.db.$executeRaw`
      INSERT INTO callback_outbox (workflow_id, object_ids, received_at)
      VALUES (${workflowId}, ${objectIds}, ${new Date(receivedAtMs)})
      ON CONFLICT (workflow_id) DO NOTHING`;
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
