import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, EMBEDDED_DATABASE_URL, databaseUrlOf, loadConfig, temporalAddressOf } from '../../src/config';

describe('configuration', () => {
  it('defaults every variable of the contract', () => {
    const config = loadConfig({});
    assert.deepEqual(config, {
      port: 9090,
      host: '127.0.0.1',
      objectServiceUrl: 'http://localhost:9010',
      databaseUrl: undefined,
      temporalAddress: undefined,
      temporalNamespace: 'default',
      taskQueue: 'presence',
      objectTtlSeconds: 30,
      cleanupIntervalSeconds: 3,
      logLevel: 'info',
      callbackToken: undefined,
      temporalTls: undefined,
      temporalApiKey: undefined,
      workerMetricsPort: 9464,
      objectServiceMaxConcurrency: 200,
    });
    assert.equal(databaseUrlOf(config), EMBEDDED_DATABASE_URL);
    assert.equal(temporalAddressOf(config), '127.0.0.1:7233');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      OBJECT_SERVICE_URL: 'http://objects.internal:9010/',
      DATABASE_URL: 'postgresql://app@db:5432/presence',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'presence-prod',
      TEMPORAL_TASK_QUEUE: 'presence-q',
      OBJECT_TTL_SECONDS: '60',
      CLEANUP_INTERVAL_SECONDS: '5',
      LOG_LEVEL: 'warn',
      CALLBACK_TOKEN: 's3cret',
      OBJECT_SERVICE_MAX_CONCURRENCY: '50',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.objectServiceUrl, 'http://objects.internal:9010');
    assert.equal(config.databaseUrl, 'postgresql://app@db:5432/presence');
    assert.equal(config.temporalAddress, 'temporal:7233');
    assert.equal(config.temporalNamespace, 'presence-prod');
    assert.equal(config.taskQueue, 'presence-q');
    assert.equal(config.objectTtlSeconds, 60);
    assert.equal(config.cleanupIntervalSeconds, 5);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.callbackToken, 's3cret');
    assert.equal(config.objectServiceMaxConcurrency, 50);
  });

  it('listens on loopback unless HOST says otherwise', () => {
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig({ HOST: '' }).host, '127.0.0.1');
    for (const host of ['0.0.0.0', '::', 'localhost', 'api.internal']) assert.equal(loadConfig({ HOST: host }).host, host);
  });

  it('treats empty values as unset', () => {
    assert.equal(loadConfig({ PORT: '', DATABASE_URL: '' }).port, 9090);
  });

  const bad: Array<[string, string]> = [
    ['PORT', 'ninety'],
    ['PORT', '70000'],
    ['HOST', 'not a host'],
    ['HOST', 'http://0.0.0.0'],
    ['OBJECT_SERVICE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://db/presence'],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233'],
    ['OBJECT_TTL_SECONDS', '0'],
    ['OBJECT_TTL_SECONDS', '2.5'],
    ['CLEANUP_INTERVAL_SECONDS', '-3'],
    ['LOG_LEVEL', 'loud'],
    ['OBJECT_SERVICE_MAX_CONCURRENCY', '0'],
    ['WORKER_METRICS_PORT', 'metrics'],
    ['TEMPORAL_TLS_CERT', '/etc/presence/client.pem'],
    ['TEMPORAL_TLS_KEY', '/etc/presence/client.key'],
  ];
  for (const [name, value] of bad) {
    it(`stops with a message naming ${name} for "${value}"`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, new RegExp(`\\b${name}\\b`));
        return true;
      });
    });
  }

  it('reads the mTLS pair and the API key', () => {
    const config = loadConfig({ TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/c.key', TEMPORAL_API_KEY: 'k' });
    assert.deepEqual(config.temporalTls, { certPath: '/c.pem', keyPath: '/c.key' });
    assert.equal(config.temporalApiKey, 'k');
  });

  it('names every bad variable at once', () => {
    assert.throws(() => loadConfig({ PORT: 'x', OBJECT_TTL_SECONDS: 'y' }), /PORT.*OBJECT_TTL_SECONDS|OBJECT_TTL_SECONDS.*PORT/);
  });
});
