import { condition, defineSignal, proxyLocalActivities, setHandler } from '@temporalio/workflow';

/**
 * The engine floor's workflow: the least a per-id Temporal design can do for one id. It waits for
 * the signal that came with its start, runs one local activity that does nothing, and completes.
 * Bundled by the Temporal worker from this file (`workflowsPath`), so it imports only the
 * workflow API and the activities' type.
 */
export const sightedSignal = defineSignal<[receivedAtMs: number]>('sighted');

export interface EngineFloorActivities {
  noop(): Promise<void>;
}

const { noop } = proxyLocalActivities<EngineFloorActivities>({ startToCloseTimeout: '10s' });

export async function engineFloorWorkflow(): Promise<void> {
  let sighted = false;
  setHandler(sightedSignal, () => {
    sighted = true;
  });
  await condition(() => sighted);
  await noop();
}
