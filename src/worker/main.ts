import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { exitOnFatalError } from '../lifecycle';
import { createLogger } from '../logger';
import { WORKER_HISTOGRAM_BUCKETS } from './metrics';
import { createWorkerProcess } from './worker-process';
import { temporalLoggerFor } from './temporal-logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'worker', config.logFormat);
  // The Runtime, not onShutdownSignal, stops the worker: running activities get the grace time.
  Runtime.install({
    logger: temporalLoggerFor(logger),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.workerMetricsPort}`,
          countersTotalSuffix: true,
          useSecondsForDurations: true,
          histogramBucketOverrides: WORKER_HISTOGRAM_BUCKETS,
        },
      },
    },
  });
  const worker = await createWorkerProcess(config, { logger });
  await worker.run();
}

main().catch(exitOnFatalError(createLogger('info', 'worker')));
