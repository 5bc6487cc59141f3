import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type BackoffOptions,
} from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from './connection-options';

/**
 * A client on the configured cluster, connecting on first use: the API starts, and takes
 * callbacks into the outbox, while Temporal is away. `retry` replaces the SDK's gRPC retry
 * backoff (10 attempts, up to 5 s apart).
 */
export function lazyClient(config: Config, retry?: Partial<BackoffOptions>): Client {
  const connection = Connection.lazy({
    ...temporalConnectionOptions(config),
    ...(retry ? { interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions(retry))] } : {}),
  });
  return new Client({ connection, namespace: config.temporalNamespace });
}
