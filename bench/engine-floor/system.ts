import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startBenchDevServer, type RunningStack } from '../systems';
import { bundleEngineFloorWorkflow, EngineFloor } from './driver';

export interface RunningEngineFloor extends RunningStack {
  floor: EngineFloor;
}

/** The workflow bundle and the runtime, once per bench run however many floor variants run. */
let workflowCode: Promise<string> | undefined;

/**
 * The smallest per-id Temporal design on the project's dev server (startBenchDevServer): per id,
 * a signal-with-start of a workflow that runs one no-op local activity and completes. Its worker
 * and `senders` clients run in the bench process, metered as `worker`. It runs as
 * `engine-floor-<senders>`: with few senders the server is left time to dispatch, with many it
 * takes more starts at once, and which is faster depends on the machine.
 */
export class EngineFloorSystem {
  readonly name: `engine-floor-${number}`;

  constructor(readonly senders: number) {
    this.name = `engine-floor-${senders}`;
  }

  async open(): Promise<this> {
    workflowCode ??= (async () => {
      // The worker's lifecycle lines would drown the bench's progress lines.
      Runtime.install({ logger: new DefaultLogger('WARN') });
      return bundleEngineFloorWorkflow();
    })();
    await workflowCode;
    return this;
  }

  async start(): Promise<RunningEngineFloor> {
    const server = await startBenchDevServer();
    try {
      const floor = await EngineFloor.start(server.address, await (workflowCode as Promise<string>));
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
