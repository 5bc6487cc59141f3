import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type BackoffOptions } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from './connection-options';

/** A client on the configured cluster; `retry` replaces the SDK's gRPC retry backoff (10 attempts, up to 5 s apart). */
export async function connectClient(config: Config, retry?: Partial<BackoffOptions>): Promise<Client> {
  const connection = await Connection.connect({
    ...temporalConnectionOptions(config),
    ...(retry ? { interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions(retry))] } : {}),
  });
  return new Client({ connection, namespace: config.temporalNamespace });
}
