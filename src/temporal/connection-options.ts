import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';
import { temporalAddressOf, type Config } from '../config';

/** What both the client's and the worker's connections need: address, and mTLS or an API key. */
export type TemporalConnectionOptions = Pick<ConnectionOptions, 'address' | 'tls'> & { apiKey?: string };

/**
 * Connection options for a self-hosted cluster (mTLS: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY) or
 * Temporal Cloud (mTLS, or TEMPORAL_API_KEY, which always goes over TLS).
 */
export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporalAddressOf(config) };
  if (config.temporalTls) {
    options.tls = {
      clientCertPair: { crt: readPem(config.temporalTls.certPath, 'TEMPORAL_TLS_CERT'), key: readPem(config.temporalTls.keyPath, 'TEMPORAL_TLS_KEY') },
    };
  }
  if (config.temporalApiKey) {
    options.apiKey = config.temporalApiKey;
    options.tls ??= true;
  }
  return options;
}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${variable}: cannot read ${path}: ${(error as Error).message}`);
  }
}
