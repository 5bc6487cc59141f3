import { checkCallbackExposure, loadConfig } from '../config';
import { exitOnFatalError, onShutdownSignal } from '../lifecycle';
import { createLogger } from '../logger';
import { createApi } from './create-api';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api', config.logFormat);
  // Before any connection: a HOST others reach needs CALLBACK_TOKEN or the explicit opt-out.
  const exposure = checkCallbackExposure(config);
  if (exposure) logger.warn(exposure);
  const api = createApi(config, { logger });
  onShutdownSignal(logger, () => api.close());
  await api.listen();
}

main().catch(exitOnFatalError(createLogger('info', 'api')));
