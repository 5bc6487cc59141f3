import { LogController } from 'fastify';
import fp from 'fastify-plugin';

/** Paths that orchestrators and Prometheus call every few seconds. */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const isProbe = (url: string): boolean => PROBE_PATHS.has(url.split('?', 1)[0] ?? url);

/**
 * Fastify's request lines for probes, written at info every few seconds, would drown the lines
 * that matter. A route's `logLevel` cannot lower them: it only sets the threshold, and Fastify
 * writes those lines at info whatever it is. So they are turned off for probes, and each probe
 * gets one line at debug instead (`probeLogging`).
 */
export const probeLogController = (): LogController =>
  new LogController({ disableRequestLogging: (request) => isProbe(request.url) });

/** Registered beside `probeLogController()`: one debug line per probe answered. */
export const probeLogging = fp(async (app) => {
  app.addHook('onResponse', async (request, reply) => {
    if (isProbe(request.url)) request.log.debug({ url: request.url, statusCode: reply.statusCode }, 'probe answered');
  });
});
