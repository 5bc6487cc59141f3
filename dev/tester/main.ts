import { loadDotEnv } from '../../src/defaults';
import { createLogger } from '../../src/logger';
import { startCallbackSender, type CallbackResult } from './callback-sender';
import { startFakeObjectService } from './object-service';
import { percentiles } from './percentiles';

/**
 * `npm run tester`: a stand-in for the upstream system. Serves the object service on 9010 (even ids online)
 * and posts up to 200 random ids between 0 and 99 to the callback endpoint every 5 s, with CALLBACK_TOKEN
 * as its bearer token when that is set.
 */
async function main(): Promise<void> {
  // The service's .env too, so the tester sends the CALLBACK_TOKEN the API was started with.
  loadDotEnv();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info', 'tester');
  // Loopback unless HOST says otherwise: in Docker Compose (HOST=0.0.0.0) the workers call it from other containers.
  const objectService = await startFakeObjectService({
    port: Number(process.env.TESTER_OBJECT_SERVICE_PORT ?? 9010),
    host: process.env.HOST || '127.0.0.1',
  });
  const callbackUrl = process.env.TESTER_CALLBACK_URL ?? `http://127.0.0.1:${process.env.PORT ?? 9090}/callback`;
  logger.info({ objectService: objectService.url, callbackUrl }, 'tester running');

  const totals = { sent: 0, failed: 0, latenciesMs: [] as number[] };
  const onResult = (result: CallbackResult) => {
    totals.sent += 1;
    totals.latenciesMs.push(result.latencyMs);
    if (result.ok)
      logger.info(
        { ids: result.ids, status: result.status, latencyMs: Math.round(result.latencyMs) },
        'callback accepted',
      );
    else {
      totals.failed += 1;
      logger.error(
        { ids: result.ids, status: result.status, error: result.error, latencyMs: Math.round(result.latencyMs) },
        'callback FAILED',
      );
    }
  };
  const sender = startCallbackSender({ callbackUrl, token: process.env.CALLBACK_TOKEN, onResult });

  const stop = async () => {
    sender.stop();
    await objectService.close();
    const { p50, p99 } = percentiles(totals.latenciesMs);
    logger.info(
      {
        ...totals,
        latenciesMs: undefined,
        p50Ms: p50,
        p99Ms: p99,
        objectServiceRequests: objectService.stats.requests,
      },
      'tester stopped',
    );
    process.exit(totals.failed > 0 ? 1 : 0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
