import type { State } from '@temporalio/worker';
import Fastify from 'fastify';
import type { HandOutBacklog } from '../activities/sighting-dispatcher';
import type { Logger } from '../logger';
import { probeLogController, probeLogging } from '../probe-logging';

export type WorkerHealthState = State | 'STARTING';

export interface WorkerHealthOptions {
  port: number;
  host: string;
  logger: Logger;
  /** Of the process's Temporal workers, the main one and the cleanup's: RUNNING only while both run. */
  workerState: () => WorkerHealthState;
  isDatabaseReachable: () => Promise<boolean>;
  handOutBacklog: () => HandOutBacklog | undefined;
}

const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    worker: { type: 'string' },
    database: { type: 'boolean' },
    handOut: {
      type: 'object',
      properties: {
        backlogIds: { type: 'integer' },
        lagSeconds: { type: 'number' },
      },
    },
  },
} as const;

// Served before Temporal is reached, so a worker waiting for it is not taken for dead. A lagging
// worker stays ready (it still makes progress); the body shows the lag to the operator.
export async function startWorkerHealth(options: WorkerHealthOptions): Promise<{ close: () => Promise<void> }> {
  const app = Fastify({ loggerInstance: options.logger, logController: probeLogController() });
  app.register(probeLogging);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: readiness, 503: readiness } } }, async (_request, reply) => {
    const worker = options.workerState();
    const database = await options.isDatabaseReachable();
    const ready = worker === 'RUNNING' && database;
    const backlog = options.handOutBacklog();
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'unavailable',
      worker,
      database,
      ...(backlog && { handOut: { backlogIds: backlog.ids, lagSeconds: backlog.lagSeconds } }),
    });
  });
  await app.listen({ port: options.port, host: options.host });
  return { close: () => app.close() };
}
