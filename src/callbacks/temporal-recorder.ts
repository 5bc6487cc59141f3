import { isGrpcServiceError, ServiceError, type BackoffOptions, type Client } from '@temporalio/client';
import type { AcceptedCallback } from '../workflows';
import { startCallbackWorkflow } from './workflow-start';
import { recordIn } from './recorder';

// No retries inside the SDK: a retry's failure hides whether an earlier attempt can still land.
export const RECORDER_GRPC_RETRY: Partial<BackoffOptions> = { maxAttempts: 1 };

// gRPC status codes (grpc-js is the SDK's dependency, not ours).
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;

/** grpc-js's words for a call it never sent; any other failure may follow the server taking it. */
function neverSent(error: unknown): boolean {
  if (!isGrpcServiceError(error)) return false;
  if (error.code === UNAVAILABLE) return error.details.startsWith('No connection established');
  return (
    error.code === DEADLINE_EXCEEDED &&
    /^Deadline exceeded after .*(Waiting for LB pick|waiting for name resolution|waiting for metadata filters)/.test(
      error.details,
    )
  );
}

export class TemporalCallbackRecorder {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Starts the callback's workflow; the call ends by `deadlineAtMs`, the start itself may land later. */
  record(callback: AcceptedCallback, deadlineAtMs: number): Promise<string> {
    const start = this.client
      .withDeadline(deadlineAtMs, () => startCallbackWorkflow(this.client, this.taskQueue, callback))
      .catch((error: unknown) => {
        // The SDK wraps the gRPC status, which says what happened to the call.
        throw error instanceof ServiceError && isGrpcServiceError(error.cause) ? error.cause : error;
      });
    return recordIn('temporal', start, neverSent);
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
