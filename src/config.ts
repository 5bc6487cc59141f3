import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { cleanEnv, host, makeValidator, port, str, url, type CleanedEnv } from 'envalid';

/** Where `npm start` runs its embedded services; parts started alone look there by default. */
export const EMBEDDED_TEMPORAL_PORT = 7233;
export const EMBEDDED_TEMPORAL_ADDRESS = `127.0.0.1:${EMBEDDED_TEMPORAL_PORT}`;
export const EMBEDDED_DATABASE_PORT = 5433;
// A development server on loopback: the password only keeps it from being a trust-all database.
export const EMBEDDED_DATABASE_USER = 'postgres';
export const EMBEDDED_DATABASE_PASSWORD = 'postgres';
export const embeddedDatabaseUrl = (port = EMBEDDED_DATABASE_PORT): string =>
  `postgresql://${EMBEDDED_DATABASE_USER}:${EMBEDDED_DATABASE_PASSWORD}@127.0.0.1:${port}/postgres`;
export const EMBEDDED_DATABASE_URL = embeddedDatabaseUrl();

/** A connection string fit for a log line. */
export const withoutPassword = (url: string): string => {
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return shown.toString();
};

const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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

/**
 * The variables of this service. The Temporal connection's variables (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, ...) are Temporal's own
 * and are read by @temporalio/envconfig, like every Temporal tool does: see loadTemporalSettings.
 */
const specification = {
  PORT: port({ default: 9090, desc: 'HTTP port of the callback API' }),
  HOST: host({
    default: '127.0.0.1',
    desc: "Interface the API and the worker's probes and metrics listen on (0.0.0.0: all)",
  }),
  OBJECT_SERVICE_URL: url({ default: 'http://localhost:9010', desc: 'Base URL of the object service' }),
  DATABASE_URL: postgresUrl({
    default: undefined,
    desc: 'PostgreSQL connection string; unset: npm start runs an embedded database',
  }),
  TEMPORAL_TASK_QUEUE: str({ default: 'presence' }),
  OBJECT_TTL_SECONDS: positiveInteger({ default: 30 }),
  CLEANUP_INTERVAL_SECONDS: positiveInteger({ default: 3 }),
  LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  LOG_FORMAT: str({ default: 'auto', choices: LOG_FORMATS, desc: 'auto: readable in a terminal, JSON elsewhere' }),
  CALLBACK_TOKEN: str({ default: undefined, desc: 'When set, callbacks need Authorization: Bearer <token>' }),
  WORKER_METRICS_PORT: port({ default: 9464, desc: "Port of the worker's Prometheus endpoint (Temporal SDK metrics)" }),
  WORKER_HEALTH_PORT: port({ default: 9465, desc: "Port of the worker's /healthz and /readyz" }),
  OBJECT_SERVICE_MAX_CONCURRENCY: positiveInteger({
    default: 200,
    desc: 'Status requests one worker sends the object service at once',
  }),
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads `.env` from `directory` into `target` when the file exists. A variable already set there
 * wins over the file, unless it is empty (empty counts as unset everywhere in this service).
 * Returns the path read, or undefined when there is no such file.
 */
export function loadDotEnv(
  directory: string = process.cwd(),
  target: NodeJS.ProcessEnv = process.env,
): string | undefined {
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
export function loadConfig(environment: NodeJS.ProcessEnv = process.env) {
  if (environment === process.env) loadDotEnv();
  // Empty strings count as unset, the way .env files and compose files usually mean them. An empty
  // TEMPORAL_GRPC_META_<NAME> stays: for Temporal it removes that header from the profile's.
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && (value !== '' || name.startsWith('TEMPORAL_GRPC_META_'))) present[name] = value;
  }
  const problems: string[] = [];
  const env: CleanedEnv<typeof specification> = cleanEnv(present, specification, {
    reporter: ({ errors }) => {
      for (const [name, error] of Object.entries(errors)) problems.push(`${name}: ${error?.message}`);
    },
  });
  const temporal = loadTemporalSettings(present, problems);
  if (problems.length > 0 || !temporal) throw new ConfigError(`Invalid configuration. ${problems.join('; ')}`);
  return {
    port: env.PORT,
    /** Interface every listener binds to: loopback unless HOST says otherwise (the container image sets 0.0.0.0). */
    host: env.HOST,
    objectServiceUrl: env.OBJECT_SERVICE_URL.replace(/\/+$/, ''),
    /** Undefined when the operator configured none: `npm start` then embeds one. */
    databaseUrl: env.DATABASE_URL,
    /**
     * The Temporal address the operator configured (TEMPORAL_ADDRESS, else the profile's); undefined
     * when there is none: `npm start` then runs a dev server, and temporalAddressOf() gives its address.
     */
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    /** TLS to Temporal with any certificate already read; `true`: TLS with the system's roots; undefined: plain text. */
    temporalTls: temporal.tls,
    temporalApiKey: temporal.apiKey,
    /** gRPC headers sent with every Temporal call (TEMPORAL_GRPC_META_*, or the profile's grpc_meta). */
    temporalGrpcMeta: temporal.grpcMeta,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    objectTtlSeconds: env.OBJECT_TTL_SECONDS,
    cleanupIntervalSeconds: env.CLEANUP_INTERVAL_SECONDS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    callbackToken: env.CALLBACK_TOKEN,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    workerHealthPort: env.WORKER_HEALTH_PORT,
    /** Per worker: N workers send the object service at most N times this many requests at once. */
    objectServiceMaxConcurrency: env.OBJECT_SERVICE_MAX_CONCURRENCY,
  };
}

/** What the service's parts run on: each variable's type comes from its specification, not written again here. */
export type Config = ReturnType<typeof loadConfig>;

export const databaseUrlOf = (config: Config): string => config.databaseUrl ?? EMBEDDED_DATABASE_URL;
export const temporalAddressOf = (config: Config): string => config.temporalAddress ?? EMBEDDED_TEMPORAL_ADDRESS;

interface TemporalSettings {
  address: string | undefined;
  namespace: string;
  tls: TLSConfig | boolean | undefined;
  apiKey: string | undefined;
  grpcMeta: Record<string, string> | undefined;
}

/** The profile's files, with the variable that overrides each and the profile's own key. */
const TLS_FILES = [
  { field: 'clientCert', variable: 'TEMPORAL_TLS_CLIENT_CERT', key: 'client_cert' },
  { field: 'clientKey', variable: 'TEMPORAL_TLS_CLIENT_KEY', key: 'client_key' },
  { field: 'serverCACert', variable: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'server_ca_cert' },
] as const;

const BOOLEAN = /^(true|false|1|0)$/;

/**
 * The Temporal connection, the way Temporal's own tools resolve it (@temporalio/envconfig): the
 * profile TEMPORAL_PROFILE (default "default") of the TOML file TEMPORAL_CONFIG_FILE (default
 * temporalio/temporal.toml in the user's config directory) when there is one, overridden by the
 * TEMPORAL_* variables. Certificates and keys are read and parsed here, so a bad one stops
 * start-up. Adds a problem naming the variable (or the profile's key) for every bad value.
 */
function loadTemporalSettings(env: Record<string, string>, problems: string[]): TemporalSettings | undefined {
  const before = problems.length;
  for (const name of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION']) {
    if (env[name] !== undefined && !BOOLEAN.test(env[name]))
      problems.push(`${name}: expected true or false, got "${env[name]}"`);
  }
  if (env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1') {
    problems.push(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: not supported by the TypeScript SDK; set TEMPORAL_TLS_SERVER_NAME to the name in the server certificate instead',
    );
  }
  const configFile = env.TEMPORAL_CONFIG_FILE;
  const fileLabel = configFile
    ? `TEMPORAL_CONFIG_FILE (${configFile})`
    : 'the Temporal config file (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml)';
  if (configFile) {
    // envconfig skips a missing file silently; a file the operator named must be there.
    try {
      readFileSync(configFile);
    } catch (error) {
      problems.push(`TEMPORAL_CONFIG_FILE: cannot read ${configFile}: ${(error as Error).message}`);
      return undefined;
    }
  }
  const profileName = env.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: env });
  } catch (error) {
    // envconfig 1.24 throws a TypeError on a file without any [profile.*] table (an empty one, say):
    // such a file has no profiles, so only the variables count, unless a profile was asked for.
    if (error instanceof TypeError && env.TEMPORAL_PROFILE === undefined) {
      profile = loadClientConfigProfile({ overrideEnvVars: env, disableFile: true });
    } else {
      problems.push(
        error instanceof TypeError
          ? `TEMPORAL_PROFILE: no profile "${profileName}" in ${fileLabel}`
          : describeProfileError((error as Error).message, fileLabel, profileName),
      );
      return undefined;
    }
  }
  /** What set a value: the variable when it is set (variables win), else the profile's key. */
  const origin = (variable: string, key: string): string =>
    env[variable] !== undefined ? variable : `${key} of profile "${profileName}" in ${fileLabel}`;

  const address = profile.address;
  if (address !== undefined) {
    const problem = hostPortProblem(address);
    if (problem) problems.push(`${origin('TEMPORAL_ADDRESS', 'address')}: ${problem}`);
  }
  // Read and parse the PEM files here, once, so that a bad one stops start-up naming its variable.
  const tls = profile.tls ? { ...profile.tls } : undefined;
  if (tls && !tls.disabled) {
    const parsed: { clientCert?: X509Certificate; clientKey?: KeyObject } = {};
    const names: Partial<Record<(typeof TLS_FILES)[number]['field'], string>> = {};
    for (const { field, variable, key } of TLS_FILES) {
      const source: ConfigDataSource | undefined = tls[field];
      if (!source) continue;
      let data: Buffer;
      let name: string;
      if ('path' in source) {
        name = origin(`${variable}_PATH`, `tls.${key}_path`);
        try {
          data = readFileSync(source.path);
        } catch (error) {
          problems.push(`${name}: cannot read ${source.path}: ${(error as Error).message}`);
          continue;
        }
      } else {
        name = origin(`${variable}_DATA`, `tls.${key}_data`);
        data = Buffer.from(source.data);
      }
      names[field] = name;
      try {
        if (field === 'clientKey') parsed.clientKey = createPrivateKey(data);
        else if (field === 'clientCert') parsed.clientCert = new X509Certificate(data);
        else new X509Certificate(data);
      } catch (error) {
        problems.push(
          `${name}: not a PEM ${field === 'clientKey' ? 'private key' : 'certificate'} (${(error as Error).message})`,
        );
        continue;
      }
      // As a Buffer, which both the client's and the worker's connections take.
      tls[field] = { data };
    }
    // envconfig drops a certificate without its key (or the reverse) silently: that would be plain TLS.
    if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
      const [missing, given] = tls.clientCert
        ? ['TEMPORAL_TLS_CLIENT_KEY_PATH', names.clientCert]
        : ['TEMPORAL_TLS_CLIENT_CERT_PATH', names.clientKey];
      problems.push(
        `${missing}: must be set together with ${given} for mTLS (or its _DATA form, or the profile's tls key)`,
      );
    } else if (parsed.clientCert && parsed.clientKey && !parsed.clientCert.checkPrivateKey(parsed.clientKey)) {
      problems.push(`${names.clientKey}: not the private key of the certificate in ${names.clientCert}`);
    }
  }
  if (problems.length > before) return undefined;

  const { namespace, connectionOptions } = toClientOptions({ ...profile, tls });
  return {
    address,
    namespace: namespace ?? 'default',
    tls:
      typeof connectionOptions.tls === 'object' && connectionOptions.tls !== null
        ? withoutUndefined(connectionOptions.tls)
        : (connectionOptions.tls ?? undefined),
    apiKey: connectionOptions.apiKey,
    grpcMeta: profile.grpcMeta,
  };
}

function hostPortProblem(input: string): string | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(input);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) return `expected host:port, got "${input}"`;
  return undefined;
}

/** envconfig's errors, with the variable (or file) to look at. */
function describeProfileError(message: string, fileLabel: string, profileName: string): string {
  if (/^Profile '.*' not found/.test(message)) return `TEMPORAL_PROFILE: no profile "${profileName}" in ${fileLabel}`;
  const key = /^Cannot specify both (\w+)_path and \1_data/.exec(message)?.[1];
  if (key) {
    const variable = `TEMPORAL_TLS_${key.toUpperCase()}`;
    return `${variable}_PATH, ${variable}_DATA: set one of them (or tls.${key}_path or _data in profile "${profileName}"), not both`;
  }
  return `${fileLabel}: ${message}`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
