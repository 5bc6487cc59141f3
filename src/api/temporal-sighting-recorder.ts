import type { Client } from '@temporalio/client';
import { objectPresenceWorkflow, objectWorkflowId, sightedSignal } from '../workflows';
import { RecorderUnavailableError, type SightingRecorder } from './sighting-recorder';

/**
 * How long one callback may wait for Temporal. The sender gives up after 1 s and never retries,
 * so past this an answer is worthless; a 503 at least tells the sender what happened.
 */
export const RECORD_DEADLINE_MS = 800;

/** Records each sighting as a signal-with-start into the object's workflow. */
export class TemporalSightingRecorder implements SightingRecorder {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async record(objectIds: readonly number[], receivedAtMs: number): Promise<void> {
    try {
      await this.client.withDeadline(Date.now() + RECORD_DEADLINE_MS, () =>
        Promise.all(
          objectIds.map((objectId) =>
            this.client.workflow.signalWithStart(objectPresenceWorkflow, {
              workflowId: objectWorkflowId(objectId),
              taskQueue: this.taskQueue,
              args: [{ objectId }],
              signal: sightedSignal,
              signalArgs: [receivedAtMs],
            }),
          ),
        ),
      );
    } catch (error) {
      throw new RecorderUnavailableError(`Temporal did not record the callback: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async isReachable(): Promise<boolean> {
    try {
      await this.client.withDeadline(Date.now() + 2_000, () =>
        this.client.workflowService.getSystemInfo({}),
      );
      return true;
    } catch {
      return false;
    }
  }
}
