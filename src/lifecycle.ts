import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from './config-error';
import type { Logger } from './logger';

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

// A ConfigError already says what to fix: one line, without a stack trace.
export function exitOnFatalError(logger: Logger) {
  return (error: unknown): never => {
    if (error instanceof ConfigError) logger.fatal(error.message);
    else logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exit(1);
  };
}

// A process started while Temporal is away (a restart of both, a rolling deploy) waits instead of exiting.
export async function retryUntilAvailable<T>(what: string, logger: Logger, attempt: () => Promise<T>): Promise<T> {
  for (let delayMs = 500; ; delayMs = Math.min(delayMs * 2, 10_000)) {
    try {
      return await attempt();
    } catch (error) {
      logger.warn({ err: error, retryInMs: delayMs }, `${what} is not available yet; retrying`);
      await sleep(delayMs);
    }
  }
}
