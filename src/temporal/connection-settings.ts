import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';

export interface TemporalSettings {
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
export function loadTemporalSettings(env: Record<string, string>, problems: string[]): TemporalSettings | undefined {
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
