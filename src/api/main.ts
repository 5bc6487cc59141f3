import { loadConfig } from '../config';
import { exitOnFatalError, onShutdownSignal } from '../lifecycle';
import { createLogger } from '../logger';
import { createApi } from './create-api';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api', config.logFormat);
  const api = createApi(config, { logger });
  onShutdownSignal(logger, () => api.close());
  await api.listen();
}

main().catch(exitOnFatalError(createLogger('info', 'api')));
