import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { cleanEnv, host, makeValidator, port, str, url, type CleanedEnv } from 'envalid';

/** Where `npm start` runs its embedded services; parts started alone look there by default. */
export const EMBEDDED_TEMPORAL_PORT = 7233;
export const EMBEDDED_TEMPORAL_ADDRESS = `127.0.0.1:${EMBEDDED_TEMPORAL_PORT}`;
export const EMBEDDED_DATABASE_PORT = 5433;
export const EMBEDDED_DATABASE_URL = `postgresql://postgres@127.0.0.1:${EMBEDDED_DATABASE_PORT}/postgres`;

const positiveInteger = makeValidator<number>((input) => {
  const value = Number(input);
  if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`expected a positive whole number, got "${input}"`);
  }
  return value;
});

const postgresUrl = makeValidator<string>((input) => {
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    throw new Error('expected a postgresql:// URL');
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new Error(`expected a postgresql:// URL, got protocol "${parsed.protocol}"`);
  }
  return input;
});

const hostPort = makeValidator<string>((input) => {
  if (!/^[^\s:/]+:\d{1,5}$/.test(input)) throw new Error(`expected host:port, got "${input}"`);
  return input;
});

const specification = {
  PORT: port({ default: 9090, desc: 'HTTP port of the callback API' }),
  HOST: host({ default: '127.0.0.1', desc: 'Interface the callback API listens on (0.0.0.0: all)' }),
  OBJECT_SERVICE_URL: url({ default: 'http://localhost:9010', desc: 'Base URL of the object service' }),
  DATABASE_URL: postgresUrl({
    default: undefined,
    desc: 'PostgreSQL connection string; unset: npm start runs an embedded database',
  }),
  TEMPORAL_ADDRESS: hostPort({
    default: undefined,
    desc: 'Temporal frontend host:port; unset: npm start runs a Temporal dev server',
  }),
  TEMPORAL_NAMESPACE: str({ default: 'default' }),
  TEMPORAL_TASK_QUEUE: str({ default: 'presence' }),
  OBJECT_TTL_SECONDS: positiveInteger({ default: 30 }),
  CLEANUP_INTERVAL_SECONDS: positiveInteger({ default: 3 }),
  LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  CALLBACK_TOKEN: str({ default: undefined, desc: 'When set, callbacks need Authorization: Bearer <token>' }),
  TEMPORAL_TLS_CERT: str({ default: undefined, desc: 'Path of the client certificate (PEM) for mTLS to Temporal' }),
  TEMPORAL_TLS_KEY: str({ default: undefined, desc: 'Path of the client private key (PEM) for mTLS to Temporal' }),
  TEMPORAL_API_KEY: str({ default: undefined, desc: 'API key for Temporal Cloud (implies TLS)' }),
  WORKER_METRICS_PORT: port({ default: 9464, desc: "Port of the worker's Prometheus endpoint (Temporal SDK metrics)" }),
  OBJECT_SERVICE_MAX_CONCURRENCY: positiveInteger({
    default: 200,
    desc: 'Status requests one worker sends the object service at once',
  }),
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** mTLS client identity for Temporal, as file paths (read when connecting). */
export interface TemporalTls {
  certPath: string;
  keyPath: string;
}

export interface Config {
  port: number;
  /** Interface the API listens on: loopback unless HOST says otherwise (the container image sets 0.0.0.0). */
  host: string;
  objectServiceUrl: string;
  /** Undefined when the operator configured none: `npm start` then embeds one. */
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  taskQueue: string;
  objectTtlSeconds: number;
  cleanupIntervalSeconds: number;
  logLevel: string;
  callbackToken: string | undefined;
  temporalTls: TemporalTls | undefined;
  temporalApiKey: string | undefined;
  workerMetricsPort: number;
  /** Per worker: N workers send the object service at most N times this many requests at once. */
  objectServiceMaxConcurrency: number;
}

/**
 * Reads `.env` from `directory` into `target` when the file exists. A variable already set there
 * wins over the file, unless it is empty (empty counts as unset everywhere in this service).
 * Returns the path read, or undefined when there is no such file.
 */
export function loadDotEnv(directory: string = process.cwd(), target: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = path.join(directory, '.env');
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`Invalid configuration. .env: cannot read ${file}: ${(error as Error).message}`);
  }
  for (const [name, value] of Object.entries(parseEnv(content))) {
    if (value !== undefined && (target[name] === undefined || target[name] === '')) target[name] = value;
  }
  return file;
}

/**
 * Parses and validates the environment; throws a ConfigError naming every bad variable.
 * Called without an argument (or with process.env itself), it first reads `.env` from the current
 * directory into process.env (see loadDotEnv); given any other object, it reads only that object.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  if (environment === process.env) loadDotEnv();
  // Empty strings count as unset, the way .env files and compose files usually mean them.
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ''));
  const env: CleanedEnv<typeof specification> = cleanEnv(present, specification, {
    reporter: ({ errors }) => {
      const problems = Object.entries(errors).map(([name, error]) => `${name}: ${error?.message}`);
      if (problems.length > 0) throw new ConfigError(`Invalid configuration. ${problems.join('; ')}`);
    },
  });
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
    const [missing, present] = env.TEMPORAL_TLS_CERT ? ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CERT'] : ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY'];
    throw new ConfigError(`Invalid configuration. ${missing}: must be set together with ${present} for mTLS`);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    objectServiceUrl: env.OBJECT_SERVICE_URL.replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL,
    temporalAddress: env.TEMPORAL_ADDRESS,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    objectTtlSeconds: env.OBJECT_TTL_SECONDS,
    cleanupIntervalSeconds: env.CLEANUP_INTERVAL_SECONDS,
    logLevel: env.LOG_LEVEL,
    callbackToken: env.CALLBACK_TOKEN,
    temporalTls:
      env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY ? { certPath: env.TEMPORAL_TLS_CERT, keyPath: env.TEMPORAL_TLS_KEY } : undefined,
    temporalApiKey: env.TEMPORAL_API_KEY,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    objectServiceMaxConcurrency: env.OBJECT_SERVICE_MAX_CONCURRENCY,
  };
}

export const databaseUrlOf = (config: Config): string => config.databaseUrl ?? EMBEDDED_DATABASE_URL;
export const temporalAddressOf = (config: Config): string => config.temporalAddress ?? EMBEDDED_TEMPORAL_ADDRESS;
