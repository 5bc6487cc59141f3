import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/temporal/connection-options';

describe('Temporal connection options', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'presence-tls-'));
  const certPath = path.join(dir, 'client.pem');
  const keyPath = path.join(dir, 'client.key');
  writeFileSync(certPath, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(keyPath, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');

  it('connects in plain text to the embedded dev server by default', () => {
    assert.deepEqual(temporalConnectionOptions(loadConfig({})), { address: '127.0.0.1:7233' });
  });

  it('uses the client certificate and key for mTLS', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_ADDRESS: 'presence.abcde.tmprl.cloud:7233', TEMPORAL_TLS_CERT: certPath, TEMPORAL_TLS_KEY: keyPath }),
    );
    assert.equal(options.address, 'presence.abcde.tmprl.cloud:7233');
    const tls = options.tls;
    assert.ok(typeof tls === 'object' && tls !== null && tls.clientCertPair);
    assert.match(tls.clientCertPair.crt.toString(), /BEGIN CERTIFICATE/);
    assert.match(tls.clientCertPair.key.toString(), /BEGIN PRIVATE KEY/);
    assert.equal(options.apiKey, undefined);
  });

  it('sends an API key over TLS (Temporal Cloud)', () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'secret-key' }));
    assert.equal(options.apiKey, 'secret-key');
    assert.equal(options.tls, true);
  });

  it('names the variable whose file cannot be read', () => {
    assert.throws(
      () => temporalConnectionOptions(loadConfig({ TEMPORAL_TLS_CERT: path.join(dir, 'missing.pem'), TEMPORAL_TLS_KEY: keyPath })),
      /TEMPORAL_TLS_CERT: cannot read/,
    );
  });
});
