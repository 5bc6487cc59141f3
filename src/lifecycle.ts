import type { Logger } from './logger';

/**
 * Runs `shutdown` once on the first SIGINT or SIGTERM, then exits. A second signal exits at
 * once, for the operator who does not want to wait for the grace time.
 */
export function onShutdownSignal(logger: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting without waiting');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/** Logs what stopped the process (a ConfigError names the variable) and exits non-zero. */
export function exitOnFatalError(logger: Logger) {
  return (error: unknown): never => {
    logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exit(1);
  };
}
