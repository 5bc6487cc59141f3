import type { BackoffOptions, Client } from '@temporalio/client';
import { withinDeadline } from '../deadline';
import type { AcceptedCallback } from '../workflows';
import { startCallbackWorkflow } from './workflow-start';
import { RecorderUnavailableError, type CallbackRecorder } from './recorder';

/**
 * gRPC retries for the recorder's client. A few quick ones ride out a blip; with the SDK's default
 * backoff a server that is down would hold every callback until the deadline, close to the
 * sender's timeout, where now it fails at once and the outbox takes the callback.
 */
export const RECORDER_GRPC_RETRY: Partial<BackoffOptions> = {
  maxAttempts: 3,
  initialIntervalMs: () => 25,
  maxIntervalMs: () => 100,
};

/** Records a callback as the start of its callback workflow: one durable write, whatever its size. */
export class TemporalCallbackRecorder implements CallbackRecorder {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    /** The sender gives up after 1 s; past this an answer could not reach it any more. */
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
