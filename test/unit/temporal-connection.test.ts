import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { toNativeClientOptions } from '@temporalio/worker/lib/connection-options';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/config-error';
import { lazyClient } from '../../src/temporal/client';
import { temporalConnectionOptions } from '../../src/temporal/connection-options';

// A throw-away self-signed EC certificate and its key, made for these tests only
// (openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500).
const CERT = `-----BEGIN CERTIFICATE-----
MIIBlTCCATugAwIBAgIUUEOlV8Sv0s2zeh+Z8VGpxX62HVowCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUcHJlc2VuY2UtdGVzdC1jbGllbnQwIBcNMjYxMTI4MDgzMDQ4
WhgPMjEyNjExMDQwODMwNDhaMB8xHTAbBgNVBAMMFHByZXNlbmNlLXRlc3QtY2xp
ZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2lhlrAVRGQ5t6XT/A3vpMBgE
Nis5sh3cwDJamnGY/TEMgVTqLy7ep5rnJTnpzb7oVJhXBO2wiMWbIK8dylOU76NT
MFEwHQYDVR0OBBYEFMSckaNXKaB+Gm8JbX7Lm4pSBsiJMB8GA1UdIwQYMBaAFMSc
kaNXKaB+Gm8JbX7Lm4pSBsiJMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
SAAwRQIgC2YJPBuXsZ8OCAoJqDyust8X4lwCQQ2TlvYGRF+i5wQCIQClxeiEaINh
7Mr4W8rOED7H+b5oXQYofBuSEYn6BnMzRg==
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZygJBoWn0SNL2fXV
H8483RCtdiJSRGy/mZlcrJ670UqhRANCAATaWGWsBVEZDm3pdP8De+kwGAQ2Kzmy
HdzAMlqacZj9MQyBVOovLt6nmuclOenNvuhUmFcE7bCIxZsgrx3KU5Tv
-----END PRIVATE KEY-----
`;
const OTHER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwXB7yUDQWX1BLKNu
NKx9dFG7RgwCMys+OFuYLK3kms6hRANCAARRcnOFzD0jgCsisvkiNOiwD7fDsFq8
jpMrEq9PJ4fuG9pqHO8dkmMagvtO4s83bFBB8JHcoo6eIH7Yq0MQfAvV
-----END PRIVATE KEY-----
`;

/** Asserts that loading `environment` stops with a ConfigError matching `pattern` (which names the variable). */
function assertStops(environment: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(
    () => loadConfig(environment),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('Temporal connection options', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'presence-tls-'));
  const file = (name: string, content: string): string => {
    const filePath = path.join(dir, name);
    writeFileSync(filePath, content);
    return filePath;
  };
  const certPath = file('client.pem', CERT);
  const keyPath = file('client.key', KEY);
  const caPath = file('ca.pem', CERT);
  const otherKeyPath = file('other.key', OTHER_KEY);
  const notPemPath = file('not.pem', 'hello\n');
  const profiles = file(
    'temporal.toml',
    `[profile.default]
address = "temporal.internal:7233"
namespace = "from-default-profile"

[profile.cloud]
address = "presence.abcde.tmprl.cloud:7233"
namespace = "presence.abcde"
api_key = "key-from-profile"

[profile.cloud.grpc_meta]
x-tenant = "presence"

[profile.mtls]
address = "presence.abcde.tmprl.cloud:7233"
[profile.mtls.tls]
client_cert_path = "${certPath}"
client_key_path = "${keyPath}"

[profile.broken-address]
address = "https://temporal.internal:7233"

[profile.missing-cert]
[profile.missing-cert.tls]
client_cert_path = "${path.join(dir, 'missing.pem')}"
client_key_path = "${keyPath}"
`,
  );

  it('connects in plain text to the embedded dev server by default', () => {
    const config = loadConfig({});
    assert.equal(config.temporalAddress, undefined, 'nothing configured: npm start embeds a dev server');
    assert.deepEqual(temporalConnectionOptions(config), { address: '127.0.0.1:7233' });
  });

  it('are what both the client and the worker connections take', (t) => {
    const config = loadConfig({
      TEMPORAL_TLS_CLIENT_CERT_PATH: certPath,
      TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath,
      TEMPORAL_API_KEY: 'k',
      TEMPORAL_GRPC_META_X_TENANT: 't',
    });
    const options = temporalConnectionOptions(config);
    // The API's client (src/temporal/client.ts) hands Connection.lazy these options whole; lazy:
    // nothing is dialled, but the certificate and key are checked as the client is built.
    const lazy = t.mock.method(Connection, 'lazy');
    const client = lazyClient(config);
    assert.equal(lazy.mock.callCount(), 1);
    const forClient = lazy.mock.calls[0]?.arguments[0];
    assert.ok(forClient);
    // The worker's NativeConnection.connect takes temporalConnectionOptions(config) as it is
    // (src/worker/worker-process.ts); this is what the SDK makes of them for the worker's core.
    const forWorker = toNativeClientOptions(options);
    const clientTls = forClient.tls;
    assert.ok(typeof clientTls === 'object' && clientTls !== null && clientTls.clientCertPair);
    const connectionOf = {
      client: {
        url: `${forClient.tls ? 'https' : 'http'}://${forClient.address}`,
        certificate: Buffer.from(clientTls.clientCertPair.crt).toString() === CERT,
        key: Buffer.from(clientTls.clientCertPair.key).toString() === KEY,
        apiKey: forClient.apiKey,
        tenant: forClient.metadata?.['x-tenant'],
      },
      worker: {
        url: forWorker.targetUrl,
        certificate: forWorker.tls?.clientTlsOptions?.clientCert?.toString() === CERT,
        key: forWorker.tls?.clientTlsOptions?.clientPrivateKey?.toString() === KEY,
        apiKey: forWorker.apiKey,
        tenant: forWorker.headers?.['x-tenant']?.value,
      },
    };
    const configured = { url: 'https://127.0.0.1:7233', certificate: true, key: true, apiKey: 'k', tenant: 't' };
    assert.deepEqual(connectionOf, { client: configured, worker: configured });
    return client.connection.close();
  });

  it('uses the standard mTLS variables (client certificate, key, server CA, server name)', () => {
    const options = temporalConnectionOptions(
      loadConfig({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS_CLIENT_CERT_PATH: certPath,
        TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: caPath,
        TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
      }),
    );
    assert.equal(options.address, 'temporal.internal:7233');
    const tls = options.tls;
    assert.ok(typeof tls === 'object' && tls !== null && tls.clientCertPair && tls.serverRootCACertificate);
    assert.equal(Buffer.from(tls.clientCertPair.crt).toString(), CERT);
    assert.equal(Buffer.from(tls.clientCertPair.key).toString(), KEY);
    assert.equal(Buffer.from(tls.serverRootCACertificate).toString(), CERT);
    assert.equal(tls.serverNameOverride, 'temporal.example');
    assert.equal(options.apiKey, undefined);
  });

  it('takes the certificate and key as PEM text too (TEMPORAL_TLS_CLIENT_CERT_DATA / _KEY_DATA)', () => {
    const { tls } = temporalConnectionOptions(
      loadConfig({ TEMPORAL_TLS_CLIENT_CERT_DATA: CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: KEY }),
    );
    assert.ok(typeof tls === 'object' && tls !== null && tls.clientCertPair);
    assert.equal(Buffer.from(tls.clientCertPair.key).toString(), KEY);
  });

  it('sends an API key over TLS (Temporal Cloud)', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'secret-key' }),
    );
    assert.equal(options.apiKey, 'secret-key');
    assert.equal(options.tls, true);
  });

  it('turns TLS off or on with TEMPORAL_TLS', () => {
    assert.equal(temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' })).tls, false);
    assert.deepEqual(temporalConnectionOptions(loadConfig({ TEMPORAL_TLS: 'true' })).tls, {});
  });

  it('sends TEMPORAL_GRPC_META_* as gRPC headers', () => {
    assert.deepEqual(temporalConnectionOptions(loadConfig({ TEMPORAL_GRPC_META_X_TENANT: 'presence' })).metadata, {
      'x-tenant': 'presence',
    });
  });

  it('reads the profile file: the default profile, or the one TEMPORAL_PROFILE names', () => {
    const byDefault = loadConfig({ TEMPORAL_CONFIG_FILE: profiles });
    assert.equal(
      byDefault.temporalAddress,
      'temporal.internal:7233',
      'a profile address counts as configured: no embedded server',
    );
    assert.equal(byDefault.temporalNamespace, 'from-default-profile');

    const cloud = loadConfig({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'cloud' });
    assert.equal(cloud.temporalNamespace, 'presence.abcde');
    assert.deepEqual(temporalConnectionOptions(cloud), {
      address: 'presence.abcde.tmprl.cloud:7233',
      tls: true,
      apiKey: 'key-from-profile',
      metadata: { 'x-tenant': 'presence' },
    });

    const mtls = temporalConnectionOptions(loadConfig({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'mtls' }));
    assert.ok(typeof mtls.tls === 'object' && mtls.tls !== null && mtls.tls.clientCertPair);
    assert.equal(Buffer.from(mtls.tls.clientCertPair.crt).toString(), CERT);
  });

  it('lets the variables override the profile', () => {
    const config = loadConfig({
      TEMPORAL_CONFIG_FILE: profiles,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_ADDRESS: 'other:7233',
      TEMPORAL_NAMESPACE: 'other-ns',
      TEMPORAL_API_KEY: 'key-from-env',
    });
    assert.equal(config.temporalAddress, 'other:7233');
    assert.equal(config.temporalNamespace, 'other-ns');
    assert.equal(config.temporalApiKey, 'key-from-env');
  });

  const xdg = process.platform === 'linux' ? false : 'XDG_CONFIG_HOME is where Linux keeps it';
  it(
    'finds the profile file where every Temporal tool looks (temporalio/temporal.toml in the config directory)',
    { skip: xdg },
    () => {
      const configHome = path.join(dir, 'xdg');
      mkdirSync(path.join(configHome, 'temporalio'), { recursive: true });
      writeFileSync(
        path.join(configHome, 'temporalio', 'temporal.toml'),
        '[profile.default]\naddress = "from-user-config:7233"\n',
      );
      assert.equal(loadConfig({ XDG_CONFIG_HOME: configHome }).temporalAddress, 'from-user-config:7233');
    },
  );

  it('accepts an empty profile file', () => {
    assert.deepEqual(temporalConnectionOptions(loadConfig({ TEMPORAL_CONFIG_FILE: file('empty.toml', '') })), {
      address: '127.0.0.1:7233',
    });
  });

  describe('stops start-up naming the variable', () => {
    it('for a certificate or key file that cannot be read', () => {
      assertStops(
        { TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'missing.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath },
        /TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read/,
      );
      assertStops(
        { TEMPORAL_TLS_CLIENT_CERT_PATH: certPath, TEMPORAL_TLS_CLIENT_KEY_PATH: dir },
        /TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read/,
      );
      assertStops(
        { TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') },
        /TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read/,
      );
    });

    it('for a file that is no PEM certificate or key', () => {
      assertStops(
        { TEMPORAL_TLS_CLIENT_CERT_PATH: notPemPath, TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath },
        /TEMPORAL_TLS_CLIENT_CERT_PATH: not a PEM certificate/,
      );
      assertStops(
        { TEMPORAL_TLS_CLIENT_CERT_PATH: certPath, TEMPORAL_TLS_CLIENT_KEY_PATH: certPath },
        /TEMPORAL_TLS_CLIENT_KEY_PATH: not a PEM private key/,
      );
      assertStops(
        { TEMPORAL_TLS_SERVER_CA_CERT_PATH: notPemPath },
        /TEMPORAL_TLS_SERVER_CA_CERT_PATH: not a PEM certificate/,
      );
    });

    it('for a key that does not belong to the certificate', () => {
      assertStops(
        { TEMPORAL_TLS_CLIENT_CERT_PATH: certPath, TEMPORAL_TLS_CLIENT_KEY_PATH: otherKeyPath },
        /TEMPORAL_TLS_CLIENT_KEY_PATH: not the private key/,
      );
    });

    it('for a certificate without its key, or the reverse', () => {
      assertStops(
        { TEMPORAL_TLS_CLIENT_CERT_PATH: certPath },
        /TEMPORAL_TLS_CLIENT_KEY_PATH: must be set together with TEMPORAL_TLS_CLIENT_CERT_PATH/,
      );
      assertStops(
        { TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath },
        /TEMPORAL_TLS_CLIENT_CERT_PATH: must be set together with TEMPORAL_TLS_CLIENT_KEY_PATH/,
      );
    });

    it('for both a path and PEM text of the same file', () => {
      assertStops(
        {
          TEMPORAL_TLS_CLIENT_CERT_PATH: certPath,
          TEMPORAL_TLS_CLIENT_CERT_DATA: CERT,
          TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath,
        },
        /TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_CERT_DATA/,
      );
      assertStops(
        {
          TEMPORAL_CONFIG_FILE: file('empty-for-both.toml', ''),
          TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath,
          TEMPORAL_TLS_CLIENT_KEY_DATA: KEY,
        },
        /TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_CLIENT_KEY_DATA/,
      );
    });

    it('for a malformed address, from the variable or from the profile', () => {
      assertStops({ TEMPORAL_ADDRESS: 'https://temporal.internal:7233' }, /TEMPORAL_ADDRESS: expected host:port/);
      assertStops(
        { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'broken-address' },
        /address of profile "broken-address" in TEMPORAL_CONFIG_FILE/,
      );
    });

    it('for a certificate file in the profile that cannot be read', () => {
      assertStops(
        { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'missing-cert' },
        /tls\.client_cert_path of profile "missing-cert" in TEMPORAL_CONFIG_FILE .*: cannot read/,
      );
    });

    it('for a profile the file does not have', () => {
      assertStops(
        { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'staging' },
        /TEMPORAL_PROFILE: no profile "staging"/,
      );
      assertStops(
        { TEMPORAL_CONFIG_FILE: file('empty-for-profile.toml', ''), TEMPORAL_PROFILE: 'staging' },
        /TEMPORAL_PROFILE: no profile "staging"/,
      );
    });

    it('for a config file that is missing or no TOML', () => {
      assertStops({ TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') }, /TEMPORAL_CONFIG_FILE: cannot read/);
      assertStops({ TEMPORAL_CONFIG_FILE: certPath }, /TEMPORAL_CONFIG_FILE \(.*\): Invalid TOML/);
    });

    it('for a TLS switch that is neither true nor false', () => {
      assertStops({ TEMPORAL_TLS: 'on' }, /TEMPORAL_TLS: expected true or false/);
    });
  });
});
