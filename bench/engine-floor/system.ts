import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startBenchDevServer, type RunningStack } from '../systems';
import { bundleEngineFloorWorkflow, EngineFloor } from './driver';

export interface RunningEngineFloor extends RunningStack {
  floor: EngineFloor;
}

/**
 * The smallest per-id Temporal design on the project's dev server (startBenchDevServer): per id,
 * a signal-with-start of a workflow that runs one no-op local activity and completes. Its worker
 * and client run in the bench process, metered as `worker`.
 */
export class EngineFloorSystem {
  readonly name = 'engine-floor';
  private workflowCode = '';

  async open(): Promise<this> {
    // The worker's lifecycle lines would drown the bench's progress lines.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    this.workflowCode = await bundleEngineFloorWorkflow();
    return this;
  }

  async start(): Promise<RunningEngineFloor> {
    const server = await startBenchDevServer();
    try {
      const floor = await EngineFloor.start(server.address, this.workflowCode);
      return {
        floor,
        groups: [server.group, { name: 'worker', fresh: false, threads: true, pids: () => [process.pid] }],
        serverRequests: server.serverRequests,
        inBenchProcess: true,
        stop: async () => {
          await floor.stop();
          await server.stop();
        },
      };
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  async close(): Promise<void> {}
}
