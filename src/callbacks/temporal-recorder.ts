import type { BackoffOptions, Client } from '@temporalio/client';
import { withinDeadline } from '../deadline';
import type { AcceptedCallback } from '../workflows';
import { startCallbackWorkflow } from './workflow-start';
import { RecorderUnavailableError, type CallbackRecorder } from './recorder';

// A few quick retries ride out a blip; the SDK's default backoff would hold every callback to the
// deadline while Temporal is down, where failing fast lets the outbox take it.
export const RECORDER_GRPC_RETRY: Partial<BackoffOptions> = {
  maxAttempts: 3,
  initialIntervalMs: () => 25,
  maxIntervalMs: () => 100,
};

export class TemporalCallbackRecorder implements CallbackRecorder {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly deadlineMs: number,
  ) {}

  async record(callback: AcceptedCallback): Promise<string> {
    try {
      await withinDeadline(
        this.client.withDeadline(Date.now() + this.deadlineMs, () =>
          startCallbackWorkflow(this.client, this.taskQueue, callback),
        ),
        this.deadlineMs,
        'Temporal',
      );
      return 'temporal';
    } catch (error) {
      throw new RecorderUnavailableError(`Temporal did not record the callback: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async isReachable(): Promise<boolean> {
    try {
      await this.client.withDeadline(Date.now() + 2_000, () => this.client.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  }
}
