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
  // The runtime stops the worker on SIGINT/SIGTERM: polling ends, running activities get the grace time.
  Runtime.install({
    logger: temporalLoggerFor(logger),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    // The SDK's own metrics (task latencies, slots, poll results) plus ours, for Prometheus.
    telemetryOptions: {
      metrics: {
        prometheus: {
          // A socket address: an IPv6 host goes in brackets.
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
