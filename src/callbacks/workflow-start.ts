import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { callbackWorkflow, type AcceptedCallback } from '../workflows';

// Keys become part of a workflow id that the Web UI shows and queries quote: no spaces or quotes.
export const IDEMPOTENCY_KEY_PATTERN = '^[!#-&(-~]{1,200}$';

export const callbackWorkflowId = (idempotencyKey?: string): string =>
  idempotencyKey === undefined ? `callback-${randomUUID()}` : `callback-key-${idempotencyKey}`;

// A no-op when a workflow was ever started under the id: a repeated key, or both Temporal and the outbox.
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
