import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { callbackWorkflow, type AcceptedCallback, type CallbackInput } from '../workflows';
import { ensureSameCallback } from './recorder';

// Keys become part of a workflow id that the Web UI shows and queries quote: no spaces or quotes.
export const IDEMPOTENCY_KEY_PATTERN = '^[!#-&(-~]{1,200}$';

export const callbackWorkflowId = (idempotencyKey?: string): string =>
  idempotencyKey === undefined ? `callback-${randomUUID()}` : `callback-key-${idempotencyKey}`;

/** Starts the callback's workflow; one already under its id is this callback only if it has the same ids. */
export async function startCallbackWorkflow(
  client: Client,
  taskQueue: string,
  callback: AcceptedCallback,
): Promise<void> {
  const { workflowId, objectIds, receivedAtMs } = callback;
  try {
    await client.workflow.start(callbackWorkflow, {
      workflowId,
      taskQueue,
      args: [{ objectIds, receivedAtMs }],
      staticSummary: `Callback of ${objectIds.length} ids, received ${new Date(receivedAtMs).toISOString()}`,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    ensureSameCallback(callback, await recordedObjectIds(client, workflowId));
  }
}

/** The ids in the input of the workflow under `workflowId`: its first history event. */
async function recordedObjectIds(client: Client, workflowId: string): Promise<number[]> {
  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 1,
    });
    const input = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!input) throw new Error('its start event holds no input');
    return client.options.loadedDataConverter.payloadConverter.fromPayload<CallbackInput>(input).objectIds;
  } catch (error) {
    // Not a gRPC error, whatever failed: the workflow may hold this very callback, so no refusal.
    throw new Error(`could not read the callback recorded under ${workflowId}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
