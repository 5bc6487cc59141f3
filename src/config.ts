import { BlockList, isIP } from 'node:net';
import { bool, cleanEnv, host, makeValidator, port, str, url, type CleanedEnv } from 'envalid';
import { OBJECT_SERVICE_TIMEOUT_MS } from './activities/object-service';
import { MAX_WAITING } from './activities/sighting-dispatcher';
import { ConfigError } from './config-error';
import { EMBEDDED_DATABASE_URL, EMBEDDED_TEMPORAL_ADDRESS, loadDotEnv } from './defaults';
import { loadTemporalSettings } from './temporal/connection-settings';

const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const wholeNumber = (min: number, what: string) =>
  makeValidator<number>((input) => {
    const value = Number(input);
    if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(value) || value < min) {
      throw new Error(`expected ${what}, got "${input}"`);
    }
    return value;
  });
const positiveInteger = wholeNumber(1, 'a positive whole number');
const wholeSeconds = wholeNumber(0, 'a whole number of seconds');

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
  MIN_CHECK_INTERVAL_SECONDS: wholeSeconds({ default: 0, desc: 'Each object checked at most once per this; 0: off' }),
  LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  LOG_FORMAT: str({ default: 'auto', choices: LOG_FORMATS, desc: 'auto: readable in a terminal, JSON elsewhere' }),
  CALLBACK_TOKEN: str({ default: undefined, desc: 'When set, callbacks need Authorization: Bearer <token>' }),
  ALLOW_UNAUTHENTICATED_CALLBACKS: bool({
    default: false,
    desc: 'true: the API starts without CALLBACK_TOKEN on a HOST other machines can reach',
  }),
  WORKER_METRICS_PORT: port({ default: 9464, desc: "Port of the worker's Prometheus endpoint (Temporal SDK metrics)" }),
  WORKER_HEALTH_PORT: port({ default: 9465, desc: "Port of the worker's /healthz and /readyz" }),
  OBJECT_SERVICE_MAX_CONCURRENCY: positiveInteger({
    default: 200,
    desc: 'Status requests one worker sends the object service at once',
  }),
  HAND_OUT_MAX_WAITING: positiveInteger({
    default: MAX_WAITING,
    desc: "Sightings one worker's hand-outs hold in memory at once; more wait in Temporal",
  }),
};

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
  if (problems.length === 0 && env.MIN_CHECK_INTERVAL_SECONDS > 0) {
    const limit = rowCheckedBySeconds(env.OBJECT_TTL_SECONDS, env.CLEANUP_INTERVAL_SECONDS);
    if (env.MIN_CHECK_INTERVAL_SECONDS >= limit) {
      problems.push(
        `MIN_CHECK_INTERVAL_SECONDS: ${env.MIN_CHECK_INTERVAL_SECONDS} leaves no time to check a sighted object before its row lapses; it must be below ${limit} (OBJECT_TTL_SECONDS less ${OBJECT_SERVICE_TIMEOUT_MS / 1000} s for an answer and CLEANUP_INTERVAL_SECONDS)`,
      );
    }
  }
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
    minCheckIntervalSeconds: env.MIN_CHECK_INTERVAL_SECONDS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    callbackToken: env.CALLBACK_TOKEN,
    allowUnauthenticatedCallbacks: env.ALLOW_UNAUTHENTICATED_CALLBACKS,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    workerHealthPort: env.WORKER_HEALTH_PORT,
    /** Per worker: N workers send the object service at most N times this many requests at once. */
    objectServiceMaxConcurrency: env.OBJECT_SERVICE_MAX_CONCURRENCY,
    handOutMaxWaiting: env.HAND_OUT_MAX_WAITING,
  };
}

/** How old a still-sighted object's row may grow before its next check must start: a TTL less a cleanup and one answer. */
export const rowCheckedBySeconds = (ttlSeconds: number, cleanupIntervalSeconds: number): number =>
  ttlSeconds - cleanupIntervalSeconds - OBJECT_SERVICE_TIMEOUT_MS / 1000;

/** What the service's parts run on: each variable's type comes from its specification, not written again here. */
export type Config = ReturnType<typeof loadConfig>;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether only this machine can reach HOST: 127.0.0.0/8, ::1 (IPv4-mapped too) or localhost; any other name may resolve anywhere. */
export function isLoopbackHost(host: string): boolean {
  const family = isIP(host);
  if (family === 0) return host.toLowerCase() === 'localhost';
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** Throws when others could post callbacks without a token and no opt-out; with it, returns the warning. */
export function checkCallbackExposure(config: Config): string | undefined {
  if (config.callbackToken || isLoopbackHost(config.host)) return undefined;
  if (!config.allowUnauthenticatedCallbacks) {
    throw new ConfigError(
      `Invalid configuration. CALLBACK_TOKEN: unset, yet HOST=${config.host} lets other machines reach the API, so anyone could post callbacks. Set CALLBACK_TOKEN (callbacks then need "Authorization: Bearer <token>"), or listen on loopback (HOST=127.0.0.1), or set ALLOW_UNAUTHENTICATED_CALLBACKS=true to take callbacks from anyone who can reach ${config.host}:${config.port}`,
    );
  }
  return `ALLOW_UNAUTHENTICATED_CALLBACKS=true and no CALLBACK_TOKEN: anyone who can reach ${config.host}:${config.port} can post callbacks and read /metrics`;
}

export const databaseUrlOf = (config: Config): string => config.databaseUrl ?? EMBEDDED_DATABASE_URL;
export const temporalAddressOf = (config: Config): string => config.temporalAddress ?? EMBEDDED_TEMPORAL_ADDRESS;
