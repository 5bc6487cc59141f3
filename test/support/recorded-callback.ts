import { defaultPayloadConverter } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { CallbackInput } from '../../src/workflows';

/** The input a callback workflow was started with: the first event of its history. */
export async function recordedCallback(client: Client, workflowId: string): Promise<CallbackInput> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  const input = events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!input) throw new Error(`${workflowId} has no input`);
  return defaultPayloadConverter.fromPayload<CallbackInput>(input);
}
