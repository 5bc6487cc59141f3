import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowSignalWithStartOptions } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { startTemporalDevServer, type DevServer } from '../../dev/embedded/temporal-dev-server';
import { freePort } from '../../dev/support/ports';
import { workflowCode } from '../../src/worker/workflow-code';
import {
  objectPresenceWorkflow,
  objectWorkflowId,
  sightedSignal,
  type CheckInterval,
  type ObjectPresenceInput,
} from '../../src/workflows';

/**
 * A real Temporal dev server and the real workflow code, with activities the test supplies:
 * a workflow's whole life, idle windows included, runs in a second or two instead of a minute.
 */
export class WorkflowTestServer {
  private constructor(
    readonly server: DevServer,
    readonly client: Client,
    private readonly connection: NativeConnection,
    private readonly workflowBundle: WorkerOptions['workflowBundle'],
  ) {}

  /** `dynamicConfig` is the server's own configuration, e.g. the history length that suggests continue-as-new. */
  static async start(dynamicConfig?: Record<string, string | number | boolean>): Promise<WorkflowTestServer> {
    // Failures the tests provoke would otherwise fill the output with the SDK's warnings.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const [server, { workflowBundle }] = await Promise.all([
      freePort().then((port) => startTemporalDevServer({ port, logLevel: 'error', dynamicConfig })),
      workflowCode(),
    ]);
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    const connection = await NativeConnection.connect({ address: server.address });
    return new WorkflowTestServer(server, client, connection, workflowBundle);
  }

  /**
   * Runs `body` while a worker with these activities polls a task queue of its own, so that no
   * workflow of another test reaches these activities; the worker is shut down afterwards.
   */
  async withWorker<T>(activities: object, body: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `workflow-test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: this.connection,
      taskQueue,
      workflowBundle: this.workflowBundle,
      activities,
      // Short, so that a worker whose test is over lets go of its checks at once.
      shutdownGraceTime: '1s',
    });
    return worker.runUntil(() => body(taskQueue));
  }

  async stop(): Promise<void> {
    await this.client.connection.close();
    await this.connection.close();
    await this.server.stop();
  }
}

/** A promise the test settles by hand: an activity that waits on it is "running" until then. */
export class Gate<T> {
  readonly promise: Promise<T>;
  open!: (value: T) => void;
  fail!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.open = resolve;
      this.fail = reject;
    });
  }
}

/** Calls an activity stub received, with a way to wait for the next ones. */
export class Calls<C> {
  readonly list: C[] = [];
  /** When each call came, by this machine's clock. */
  readonly times: number[] = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  record(call: C): void {
    this.list.push(call);
    this.times.push(Date.now());
    for (const waiter of this.waiters.filter(({ count }) => this.list.length >= count)) waiter.resolve();
  }

  /** Resolves once at least `count` calls have come in; fails the test after `timeoutMs`. */
  async reach(count: number, timeoutMs = 10_000): Promise<C[]> {
    if (this.list.length < count) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`expected ${count} calls within ${timeoutMs} ms, got ${this.list.length}`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
    return this.list;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A second instead of 30: room enough to sight an object again within it, on a busy machine too. */
export const IDLE_MS = 1_000;

/**
 * Signal-with-starts the object's workflow as the hand-out does, with a short idle window unless
 * `input` says otherwise, and the check interval the signalling worker would send.
 */
export function sight(
  client: Client,
  taskQueue: string,
  objectId: number,
  receivedAtMs: number,
  {
    input,
    interval,
    ...options
  }: Pick<WorkflowSignalWithStartOptions, 'workflowTaskTimeout'> & {
    input?: Partial<ObjectPresenceInput>;
    interval?: CheckInterval;
  } = {},
) {
  return client.workflow.signalWithStart(objectPresenceWorkflow, {
    workflowId: objectWorkflowId(objectId),
    taskQueue,
    args: [{ objectId, idleTimeoutMs: IDLE_MS, ...input }],
    signal: sightedSignal,
    signalArgs: [receivedAtMs, interval],
    ...options,
  });
}
