import type { ConnectionOptions } from '@temporalio/client';
import { temporalAddressOf, type Config } from '../config';

/**
 * What both the client's (`Connection.connect`) and the worker's (`NativeConnection.connect`)
 * connections take: address, TLS (mTLS or not), API key and gRPC headers.
 */
export type TemporalConnectionOptions = Pick<ConnectionOptions, 'address' | 'tls'> & {
  apiKey?: string;
  metadata?: Record<string, string>;
};

/**
 * Connection options from the configuration, which loadConfig resolved the way Temporal's own tools
 * do (TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_API_KEY, TEMPORAL_GRPC_META_*, TEMPORAL_PROFILE
 * ...; certificate files already read). No address configured: the embedded dev server's.
 * The namespace is not part of a connection: it is `config.temporalNamespace`.
 */
export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporalAddressOf(config) };
  if (config.temporalTls !== undefined) options.tls = config.temporalTls;
  if (config.temporalApiKey !== undefined) options.apiKey = config.temporalApiKey;
  if (config.temporalGrpcMeta !== undefined) options.metadata = { ...config.temporalGrpcMeta };
  return options;
}
