import { createServer } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { CallbackRecorder } from '../callbacks/recorder';
import { CALLBACK_BODY_LIMIT_BYTES } from './callback-schema';
import errorReplies from './plugins/error-replies';
import metrics from './plugins/metrics';
import openapi from './plugins/openapi';
import strictJson from './plugins/strict-json';
import callbackRoutes from './routes/callback';
import healthRoutes from './routes/health';
import { probeLogController, probeLogging } from '../probe-logging';

/** A slow or stalled client is cut off after this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface AppOptions {
  recorder: CallbackRecorder;
  isDatabaseReachable: () => Promise<boolean>;
  callbackToken?: string;
  requestTimeoutMs?: number;
  logger?: FastifyBaseLogger;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { recorder, isDatabaseReachable, callbackToken, logger } = options;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    logController: probeLogController(),
    bodyLimit: CALLBACK_BODY_LIMIT_BYTES,
    // Node enforces header and request timeouts only when it sweeps its connections, every 30 s
    // by default; sweeping often is what actually stops slow clients from piling up.
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout,
          headersTimeout: requestTimeout,
          connectionsCheckingInterval: Math.min(1_000, requestTimeout),
        },
        handler,
      ),
    connectionTimeout: requestTimeout,
    keepAliveTimeout: 10_000,
    // Fastify coerces by default ("7" → 7, null → 0); the contract rejects such ids.
    // `example` is declared only so the OpenAPI document can carry it.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, keywords: ['example'] } },
  });
  app.register(strictJson);
  app.register(errorReplies);
  app.register(metrics);
  app.register(openapi);
  app.register(probeLogging);
  app.register(callbackRoutes, { recorder, callbackToken });
  app.register(healthRoutes, { recorder, isDatabaseReachable });
  return app;
}
