import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfigProfile,
  loadConfigData,
  toClientOptions,
  type ClientConfigProfile,
  type ClientConfigTLS,
  type ConfigDataSource,
} from '@temporalio/envconfig';

export interface TemporalSettings {
  address: string | undefined;
  namespace: string;
  tls: TLSConfig | boolean | undefined;
  apiKey: string | undefined;
  grpcMeta: Record<string, string> | undefined;
}

/** Each PEM file of a profile, with the variable that overrides it and the profile's key. */
const TLS_FILES = [
  ['clientCert', 'TEMPORAL_TLS_CLIENT_CERT', 'client_cert'],
  ['clientKey', 'TEMPORAL_TLS_CLIENT_KEY', 'client_key'],
  ['serverCACert', 'TEMPORAL_TLS_SERVER_CA_CERT', 'server_ca_cert'],
] as const;
type Origin = (variable: string, key: string) => string;

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/**
 * The Temporal connection as @temporalio/envconfig resolves it for every Temporal tool: the TEMPORAL_*
 * variables over the profile TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE. Adds a problem naming the
 * variable (or the profile's key) for each bad value envconfig lets through.
 */
export function loadTemporalSettings(env: Record<string, string>, problems: string[]): TemporalSettings | undefined {
  const before = problems.length;
  // envconfig takes any value but true and 1 for false.
  for (const name of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION']) {
    if (env[name] !== undefined && !/^(true|false|1|0)$/.test(env[name]))
      problems.push(`${name}: expected true or false, got "${env[name]}"`);
  }
  if (/^(true|1)$/.test(env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION ?? '')) {
    problems.push(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: not supported by the TypeScript SDK; set TEMPORAL_TLS_SERVER_NAME to the name in the server certificate instead',
    );
  }
  const file = env.TEMPORAL_CONFIG_FILE;
  const fileLabel = file
    ? `TEMPORAL_CONFIG_FILE (${file})`
    : 'the Temporal config file (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml)';
  let configSource: ConfigDataSource | undefined;
  try {
    // Read here: envconfig skips a missing file silently, and a file the operator named must be there.
    if (file) configSource = { data: readFileSync(file) };
  } catch (error) {
    problems.push(`TEMPORAL_CONFIG_FILE: cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
  const profileName = env.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadProfile(env, configSource);
  } catch (error) {
    problems.push(describeProfileError(error as Error, fileLabel, profileName));
    return undefined;
  }
  /** What set a value: the variable when it is set (variables win), else the profile's key. */
  const origin: Origin = (variable, key) =>
    env[variable] !== undefined ? variable : `${key} of profile "${profileName}" in ${fileLabel}`;

  const port = Number(HOST_PORT.exec(profile.address ?? '')?.[2]);
  if (profile.address !== undefined && !(port >= 1 && port <= 65535))
    problems.push(`${origin('TEMPORAL_ADDRESS', 'address')}: expected host:port, got "${profile.address}"`);
  const tls = profile.tls && { ...profile.tls };
  if (tls && !tls.disabled) readTlsFiles(tls, origin, problems);
  if (problems.length > before) return undefined;

  const { namespace, connectionOptions } = toClientOptions({ ...profile, tls });
  const tlsOption = connectionOptions.tls;
  return {
    address: profile.address,
    namespace: namespace ?? 'default',
    tls:
      typeof tlsOption === 'object' && tlsOption !== null
        ? (Object.fromEntries(Object.entries(tlsOption).filter(([, value]) => value !== undefined)) as TLSConfig)
        : (tlsOption ?? undefined),
    apiKey: connectionOptions.apiKey,
    grpcMeta: profile.grpcMeta,
  };
}

function loadProfile(env: Record<string, string>, configSource: ConfigDataSource | undefined): ClientConfigProfile {
  try {
    return loadClientConfigProfile({ overrideEnvVars: env, configSource });
  } catch (error) {
    // envconfig 1.24 throws a TypeError on a file without [profile.*] tables (an empty one): no profile in it.
    if (!(error instanceof TypeError) || env.TEMPORAL_PROFILE !== undefined) throw error;
    return loadClientConfigProfile({ overrideEnvVars: env, disableFile: true });
  }
}

/** envconfig's errors, with the variable (or the file) to look at. */
function describeProfileError(error: Error, fileLabel: string, profileName: string): string {
  if (error instanceof TypeError || /^Profile '.*' not found/.test(error.message))
    return `TEMPORAL_PROFILE: no profile "${profileName}" in ${fileLabel}`;
  const key = /^Cannot specify both (\w+)_path and \1_data/.exec(error.message)?.[1];
  if (!key) return `${fileLabel}: ${error.message}`;
  const variable = `TEMPORAL_TLS_${key.toUpperCase()}`;
  return `${variable}_PATH, ${variable}_DATA: set one of them (or tls.${key}_path or _data in profile "${profileName}"), not both`;
}

/** Reads and parses the PEM files once, so a bad one stops start-up; keeps their bytes in `tls`. */
function readTlsFiles(tls: ClientConfigTLS, origin: Origin, problems: string[]): void {
  const names: Record<string, string> = {};
  let cert: X509Certificate | undefined;
  let key: KeyObject | undefined;
  for (const [field, variable, tomlKey] of TLS_FILES) {
    const source = tls[field];
    if (!source) continue;
    const form = 'path' in source ? 'path' : 'data';
    const name = (names[field] = origin(`${variable}_${form.toUpperCase()}`, `tls.${tomlKey}_${form}`));
    let data: Uint8Array;
    try {
      data = loadConfigData(source) as Uint8Array;
    } catch (error) {
      problems.push(`${name}: cannot read ${(source as { path: string }).path}: ${(error as Error).message}`);
      continue;
    }
    try {
      if (field === 'clientKey') key = createPrivateKey(Buffer.from(data));
      else if (field === 'clientCert') cert = new X509Certificate(data);
      else new X509Certificate(data);
    } catch (error) {
      const kind = field === 'clientKey' ? 'private key' : 'certificate';
      problems.push(`${name}: not a PEM ${kind} (${(error as Error).message})`);
      continue;
    }
    tls[field] = { data };
  }
  // envconfig drops a certificate without its key (or the reverse) silently: that would be TLS without mTLS.
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    const [missing, given] = tls.clientCert
      ? ['TEMPORAL_TLS_CLIENT_KEY_PATH', names.clientCert]
      : ['TEMPORAL_TLS_CLIENT_CERT_PATH', names.clientKey];
    problems.push(
      `${missing}: must be set together with ${given} for mTLS (or its _DATA form, or the profile's tls key)`,
    );
  } else if (cert && key && !cert.checkPrivateKey(key)) {
    problems.push(`${names.clientKey}: not the private key of the certificate in ${names.clientCert}`);
  }
}
