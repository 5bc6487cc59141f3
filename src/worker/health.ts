import type { State } from '@temporalio/worker';
import Fastify from 'fastify';
import type { HandOutBacklog } from '../activities/sighting-dispatcher';
import type { Logger } from '../logger';
import { probeLogController, probeLogging } from '../probe-logging';

/** What the worker is before Worker.create has returned: connecting to Temporal, or setting up. */
export type WorkerHealthState = State | 'STARTING';

export interface WorkerHealthOptions {
  port: number;
  host: string;
  logger: Logger;
  workerState: () => WorkerHealthState;
  isDatabaseReachable: () => Promise<boolean>;
  /** How far behind the worker's hand-outs are; undefined until the worker exists. */
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

/**
 * The worker's probes, on a port of their own: `/healthz` while the process lives, `/readyz`
 * while the worker polls its task queue and the database answers. Served from the start, before
 * Temporal is reached, so an orchestrator can tell a worker still waiting for Temporal from a
 * dead one. The readiness body also says how far behind the hand-outs are: a lagging worker is
 * still ready (it takes work and makes progress), but an operator sees that it needs help.
 */
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
