import { sleep } from '@temporalio/workflow';

/** The object workflow with its first command changed: a timer where the recorded run scheduled its check. */
export async function objectPresenceWorkflow(): Promise<void> {
  await sleep('1s');
}
