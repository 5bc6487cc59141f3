import type { ConnectionOptions } from '@temporalio/client';
import { temporalAddressOf, type Config } from '../config';

/** What both the client's `Connection.connect` and the worker's `NativeConnection.connect` take. */
export type TemporalConnectionOptions = Pick<ConnectionOptions, 'address' | 'tls'> & {
  apiKey?: string;
  metadata?: Record<string, string>;
};

/**
 * The connection loadConfig resolved (see loadTemporalSettings), or the embedded dev server's address
 * when none is configured. The namespace is not part of a connection: it is `config.temporalNamespace`.
 */
export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporalAddressOf(config) };
  if (config.temporalTls !== undefined) options.tls = config.temporalTls;
  if (config.temporalApiKey !== undefined) options.apiKey = config.temporalApiKey;
  if (config.temporalGrpcMeta !== undefined) options.metadata = { ...config.temporalGrpcMeta };
  return options;
}
