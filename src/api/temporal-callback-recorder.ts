import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, type BackoffOptions, type Client } from '@temporalio/client';
import { callbackWorkflow } from '../workflows';
import { RecorderUnavailableError, type AcceptedCallback, type CallbackRecorder } from './callback-recorder';

/**
 * How long one callback may wait for Temporal. The sender gives up after 1 s and never retries;
 * one workflow start takes a few milliseconds, so this only runs out when Temporal is in trouble,
 * and then a 503 still reaches the sender before it gives up.
 */
export const RECORD_DEADLINE_MS = 900;

/**
 * gRPC retries for the recorder's client. A few quick ones ride out a blip; with the SDK's default
 * backoff a server that is down would hold every callback until the deadline, close to the
 * sender's timeout, where now it gets its 503 at once.
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
  ) {}

  async record({ workflowId, objectIds, receivedAtMs }: AcceptedCallback): Promise<void> {
    const started = this.client.withDeadline(Date.now() + RECORD_DEADLINE_MS, () =>
      this.client.workflow.start(callbackWorkflow, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [{ objectIds, receivedAtMs }],
        // A callback recorded before under this id (a repeated Idempotency-Key) is not recorded
        // again, whether its workflow still runs or has finished.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
    // The SDK's gRPC retry backs off on timers that ignore the deadline, so enforce it here too.
    const timer = new AbortController();
    const deadlinePassed = sleep(RECORD_DEADLINE_MS, undefined, { signal: timer.signal }).then(() => {
      throw new Error(`no answer from Temporal within ${RECORD_DEADLINE_MS} ms`);
    });
    deadlinePassed.catch(() => undefined);
    try {
      await Promise.race([started, deadlinePassed]);
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw new RecorderUnavailableError(`Temporal did not record the callback: ${(error as Error).message}`, { cause: error });
    } finally {
      timer.abort();
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
