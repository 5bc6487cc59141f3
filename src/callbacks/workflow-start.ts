import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { callbackWorkflow, type AcceptedCallback } from '../workflows';

/**
 * Idempotency keys become part of a workflow id, which the Web UI shows and a query may quote:
 * printable ASCII without spaces or quotes keeps both plain.
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[!#-&(-~]{1,200}$';

export const callbackWorkflowId = (idempotencyKey?: string): string =>
  idempotencyKey === undefined ? `callback-${randomUUID()}` : `callback-key-${idempotencyKey}`;

/**
 * Starts the callback's workflow, or does nothing when one was started under its id before (a
 * repeated Idempotency-Key, or a callback that reached both Temporal and the outbox), whether
 * that workflow still runs or has finished.
 */
export async function startCallbackWorkflow(
  client: Client,
  taskQueue: string,
  { workflowId, objectIds, receivedAtMs }: AcceptedCallback,
): Promise<void> {
  try {
    await client.workflow.start(callbackWorkflow, {
      workflowId,
      taskQueue,
      args: [{ objectIds, receivedAtMs }],
      staticSummary: `Callback of ${objectIds.length} ids, received ${new Date(receivedAtMs).toISOString()}`,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
