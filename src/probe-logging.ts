import { LogController } from 'fastify';
import fp from 'fastify-plugin';

const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const isProbe = (url: string): boolean => PROBE_PATHS.has(url.split('?', 1)[0] ?? url);

// Request lines for probes every few seconds would drown the rest, and a route's `logLevel` cannot
// lower them (Fastify writes them at info regardless): off for probes, one debug line each instead.
export const probeLogController = (): LogController =>
  new LogController({ disableRequestLogging: (request) => isProbe(request.url) });

export const probeLogging = fp(async (app) => {
  app.addHook('onResponse', async (request, reply) => {
    if (isProbe(request.url)) request.log.debug({ url: request.url, statusCode: reply.statusCode }, 'probe answered');
  });
});
