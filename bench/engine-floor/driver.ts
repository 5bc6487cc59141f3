import { setTimeout as sleep } from 'node:timers/promises';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { fromSharedList, retryUntil } from '../load';
import { engineFloorWorkflow, sightedSignal, type EngineFloorActivities } from './workflow';

const TASK_QUEUE = 'engine-floor';
const COMPLETED = `WorkflowType = '${engineFloorWorkflow.name}' AND ExecutionStatus = 'Completed'`;

/** The workflow code, bundled once per bench run rather than once per worker. */
export async function bundleEngineFloorWorkflow(): Promise<string> {
  return (await bundleWorkflowCode({ workflowsPath: require.resolve('./workflow'), logger: new DefaultLogger('WARN') }))
    .code;
}

export interface EngineFloorResult {
  ids: number;
  senders: number;
  /** Ids whose signal-with-start the server took before the timeout. */
  started: number;
  /** Ids whose workflow completed. */
  completed: number;
  complete: boolean;
  /** Signal-with-starts that failed and were sent again. */
  retries: number;
  /** When the last signal-with-start was answered. */
  startedAllAfterS: number;
  /** From the first signal-with-start to the last completion (the server's close time), or to the timeout. */
  seconds: number;
  idsPerSecond: number;
  /** Completed workflows once a second: shows whether the rate holds or tails off. */
  completedOverTime: Array<[seconds: number, completed: number]>;
}

/**
 * The engine floor: a worker and the client that feeds it, both in this process on one connection
 * to the dev server. Each id is one signal-with-start of `engineFloorWorkflow`.
 */
export class EngineFloor {
  private constructor(
    private readonly connection: NativeConnection,
    private readonly client: Client,
    private readonly worker: Worker,
    private readonly running: Promise<void>,
  ) {}

  static async start(address: string, workflowCode: string): Promise<EngineFloor> {
    const connection = await NativeConnection.connect({ address });
    const activities: EngineFloorActivities = { noop: async () => undefined };
    const worker = await Worker.create({
      connection,
      taskQueue: TASK_QUEUE,
      workflowBundle: { code: workflowCode },
      activities,
      // The project's poller setting (src/worker/presence-worker.ts): with the SDK's default,
      // 2 pollers on the shared queue hold the first task of new workflows to a few a second.
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 20 },
      nonStickyToStickyPollRatio: 0.5,
    });
    const running = worker.run();
    return new EngineFloor(connection, new Client({ connection }), worker, running);
  }

  /**
   * Sends one signal-with-start per id from `senders` clients at once, each sent again until
   * recorded, and waits until every workflow has completed or the timeout passes.
   */
  async complete(ids: readonly number[], senders: number, timeoutS: number): Promise<EngineFloorResult> {
    const completedBefore = await this.completedCount();
    const startedAtMs = Date.now();
    const started = performance.now();
    const elapsedS = () => (performance.now() - started) / 1000;
    const deadline = started + timeoutS * 1000;
    const sent = { started: 0, retries: 0 };
    let startedAllAfterS = NaN;
    const sending = fromSharedList(ids, senders, deadline, async (id) => {
      const { ok, retries } = await retryUntil(() => this.signalWithStart(id), deadline);
      sent.retries += retries;
      if (ok) sent.started += 1;
    }).then(() => {
      startedAllAfterS = elapsedS();
    });

    const completedOverTime: Array<[number, number]> = [];
    let completed = 0;
    while (completed < ids.length && performance.now() < deadline) {
      await sleep(250);
      completed = (await this.completedCount()) - completedBefore;
      const second = Math.floor(elapsedS());
      if (second > (completedOverTime.at(-1)?.[0] ?? -1)) completedOverTime.push([second, completed]);
    }
    await sending;
    const complete = completed >= ids.length;
    const lastCompletion = complete ? await this.lastCloseTime() : undefined;
    const seconds = lastCompletion ? (lastCompletion.getTime() - startedAtMs) / 1000 : elapsedS();
    return {
      ids: ids.length,
      senders,
      started: sent.started,
      completed,
      complete,
      retries: sent.retries,
      startedAllAfterS: Math.round(startedAllAfterS * 10) / 10,
      seconds: Math.round(seconds * 10) / 10,
      idsPerSecond: Math.round(completed / seconds),
      completedOverTime,
    };
  }

  /** True once the server has the id's workflow, started by this attempt or an earlier one. */
  private async signalWithStart(id: number): Promise<boolean> {
    try {
      await this.client.workflow.signalWithStart(engineFloorWorkflow, {
        workflowId: `object-${id}`,
        taskQueue: TASK_QUEUE,
        // A retry after a lost answer must not start the workflow a second time.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        signal: sightedSignal,
        signalArgs: [Date.now()],
      });
      return true;
    } catch (error) {
      return error instanceof WorkflowExecutionAlreadyStartedError;
    }
  }

  private async completedCount(): Promise<number> {
    return (await this.client.workflow.count(COMPLETED)).count;
  }

  /** The server lists closed workflows by close time, newest first. */
  private async lastCloseTime(): Promise<Date | undefined> {
    for await (const execution of this.client.workflow.list({ query: COMPLETED, pageSize: 1 }))
      return execution.closeTime;
    return undefined;
  }

  async stop(): Promise<void> {
    this.worker.shutdown();
    await this.running;
    await this.connection.close();
  }
}
