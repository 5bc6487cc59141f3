import { setTimeout as sleep } from 'node:timers/promises';
import type { BackoffOptions, Client } from '@temporalio/client';
import { objectPresenceWorkflow, objectWorkflowId, sightedSignal } from '../workflows';
import { AdmissionLimit } from './admission-limit';
import { RecorderOverloadedError, RecorderUnavailableError, type SightingRecorder } from './sighting-recorder';

/**
 * How long one callback may wait for Temporal. The sender gives up after 1 s and never retries:
 * a 202 that arrives in time is worth the wait (a burst of new ids can take a dev server several
 * hundred milliseconds), and past this a 503 still reaches the sender before it gives up.
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

/**
 * Ids in flight per API process. It starts where a dev server still answers in time and grows
 * while Temporal answers in under half the deadline; a cluster takes it up to the maximum. The
 * minimum is one small callback: on an overloaded dev server, 80 ids in flight already meant
 * 5 signal-with-starts per accepted id, the rest spent on callbacks that timed out.
 */
const defaultAdmissionLimit = (): AdmissionLimit =>
  new AdmissionLimit({ initial: 1_000, min: 20, max: 50_000, fastMs: RECORD_DEADLINE_MS / 2 });

/** Records each sighting as a signal-with-start into the object's workflow. */
export class TemporalSightingRecorder implements SightingRecorder {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly admission: AdmissionLimit = defaultAdmissionLimit(),
  ) {}

  async record(objectIds: readonly number[], receivedAtMs: number): Promise<void> {
    if (!this.admission.tryAdmit(objectIds.length)) {
      throw new RecorderOverloadedError(`${objectIds.length} ids would exceed the ${this.admission.current} this process has Temporal work on at once`);
    }
    const startedAt = performance.now();
    try {
      await this.signalWithStartAll(objectIds, receivedAtMs);
      this.admission.recorded(objectIds.length, performance.now() - startedAt);
    } catch (error) {
      this.admission.failed(objectIds.length, performance.now() - startedAt >= RECORD_DEADLINE_MS * 0.9);
      throw error;
    }
  }

  private async signalWithStartAll(objectIds: readonly number[], receivedAtMs: number): Promise<void> {
    const deadline = Date.now() + RECORD_DEADLINE_MS;
    const starts = this.client.withDeadline(deadline, () =>
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
    // The SDK's gRPC retry backs off on timers that ignore the deadline, so enforce it here too.
    const timer = new AbortController();
    const deadlinePassed = sleep(RECORD_DEADLINE_MS, undefined, { signal: timer.signal }).then(() => {
      throw new Error(`no answer from Temporal within ${RECORD_DEADLINE_MS} ms`);
    });
    deadlinePassed.catch(() => undefined);
    try {
      await Promise.race([starts, deadlinePassed]);
    } catch (error) {
      throw new RecorderUnavailableError(`Temporal did not record the callback: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      timer.abort();
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
