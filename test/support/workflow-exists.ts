import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** Describe, not a visibility count: the list lags the start it would have to show. */
export const workflowExists = (client: Client, workflowId: string): Promise<boolean> =>
  client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      (error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      },
    );
