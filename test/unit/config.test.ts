import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseEnv } from 'node:util';
import { checkCallbackExposure, databaseUrlOf, isLoopbackHost, loadConfig, temporalAddressOf } from '../../src/config';
import { ConfigError } from '../../src/config-error';
import { EMBEDDED_DATABASE_URL, loadDotEnv } from '../../src/defaults';

/** Asserts that loading `environment` stops with a ConfigError whose message names `name`. */
function assertNamed(environment: NodeJS.ProcessEnv, name: string | RegExp): void {
  assert.throws(
    () => loadConfig(environment),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, typeof name === 'string' ? new RegExp(`\\b${name}\\b`) : name);
      return true;
    },
  );
}

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
      temporalTls: undefined,
      temporalApiKey: undefined,
      temporalGrpcMeta: undefined,
      taskQueue: 'presence',
      objectTtlSeconds: 30,
      cleanupIntervalSeconds: 3,
      logLevel: 'info',
      logFormat: 'auto',
      callbackToken: undefined,
      allowUnauthenticatedCallbacks: false,
      workerMetricsPort: 9464,
      workerHealthPort: 9465,
      objectServiceMaxConcurrency: 200,
      handOutMaxWaiting: 100_000,
      minCheckIntervalSeconds: 0,
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
      LOG_FORMAT: 'json',
      CALLBACK_TOKEN: 's3cret',
      ALLOW_UNAUTHENTICATED_CALLBACKS: 'true',
      WORKER_METRICS_PORT: '9465',
      WORKER_HEALTH_PORT: '9466',
      OBJECT_SERVICE_MAX_CONCURRENCY: '50',
      HAND_OUT_MAX_WAITING: '5000',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.objectServiceUrl, 'http://objects.internal:9010');
    assert.equal(config.databaseUrl, 'postgresql://app@db:5432/presence');
    assert.equal(config.temporalAddress, 'temporal:7233');
    assert.equal(temporalAddressOf(config), 'temporal:7233');
    assert.equal(config.temporalNamespace, 'presence-prod');
    assert.equal(config.taskQueue, 'presence-q');
    assert.equal(config.objectTtlSeconds, 60);
    assert.equal(config.cleanupIntervalSeconds, 5);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.logFormat, 'json');
    assert.equal(config.callbackToken, 's3cret');
    assert.equal(config.allowUnauthenticatedCallbacks, true);
    assert.equal(config.workerMetricsPort, 9465);
    assert.equal(config.workerHealthPort, 9466);
    assert.equal(config.objectServiceMaxConcurrency, 50);
    assert.equal(config.handOutMaxWaiting, 5_000);
  });

  it('.env.example holds the defaults', () => {
    const example = parseEnv(readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8'));
    assert.deepEqual(loadConfig(example), loadConfig({}));
  });

  it('listens on loopback unless HOST says otherwise', () => {
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig({ HOST: '' }).host, '127.0.0.1');
    for (const host of ['0.0.0.0', '::', 'localhost', 'api.internal'])
      assert.equal(loadConfig({ HOST: host }).host, host);
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '', TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' });
    assert.equal(config.port, 9090);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.temporalAddress, undefined);
    assert.equal(config.temporalNamespace, 'default');
  });

  const bad: Array<[string, string]> = [
    ['PORT', 'ninety'],
    ['PORT', '70000'],
    ['HOST', 'not a host'],
    ['HOST', 'http://0.0.0.0'],
    ['OBJECT_SERVICE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://db/presence'],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233'],
    ['TEMPORAL_ADDRESS', 'temporal'],
    ['TEMPORAL_ADDRESS', 'temporal:99999'],
    ['TEMPORAL_TLS', 'yes'],
    ['OBJECT_TTL_SECONDS', '0'],
    ['OBJECT_TTL_SECONDS', '2.5'],
    ['CLEANUP_INTERVAL_SECONDS', '-3'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
    ['OBJECT_SERVICE_MAX_CONCURRENCY', '0'],
    ['HAND_OUT_MAX_WAITING', '0'],
    ['WORKER_METRICS_PORT', 'metrics'],
    ['WORKER_HEALTH_PORT', '0'],
    ['ALLOW_UNAUTHENTICATED_CALLBACKS', 'maybe'],
    ['MIN_CHECK_INTERVAL_SECONDS', '-1'],
    ['MIN_CHECK_INTERVAL_SECONDS', '1.5'],
    // The default TTL (30 s) less one answer (5 s) and the default cleanup interval (3 s): 22.
    ['MIN_CHECK_INTERVAL_SECONDS', '22'],
  ];
  for (const [name, value] of bad) {
    it(`stops with a message naming ${name} for "${value}"`, () => assertNamed({ [name]: value }, name));
  }

  it('takes a check interval that leaves room to check a sighted object before its row lapses', () => {
    assert.equal(loadConfig({}).minCheckIntervalSeconds, 0);
    assert.equal(loadConfig({ MIN_CHECK_INTERVAL_SECONDS: '21' }).minCheckIntervalSeconds, 21);
    assertNamed({ MIN_CHECK_INTERVAL_SECONDS: '21', CLEANUP_INTERVAL_SECONDS: '5' }, 'MIN_CHECK_INTERVAL_SECONDS');
    assert.equal(
      loadConfig({ MIN_CHECK_INTERVAL_SECONDS: '50', OBJECT_TTL_SECONDS: '60' }).minCheckIntervalSeconds,
      50,
    );
  });

  it('knows which hosts only this machine reaches', () => {
    for (const host of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      'localhost',
      'LocalHost',
    ])
      assert.ok(isLoopbackHost(host), host);
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '128.0.0.1',
      '::2',
      '::ffff:10.0.0.5',
      'api.internal',
      'localhost.example',
    ])
      assert.ok(!isLoopbackHost(host), host);
  });

  it('refuses callbacks without a token on a host others reach, naming CALLBACK_TOKEN and the opt-out', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'api.internal']) {
      assert.throws(
        () => checkCallbackExposure(loadConfig({ HOST: host })),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.message, /\bCALLBACK_TOKEN\b/);
          assert.match(error.message, /\bALLOW_UNAUTHENTICATED_CALLBACKS=true\b/);
          return true;
        },
        host,
      );
    }
  });

  it('takes callbacks without a token on loopback, with a token anywhere, and when told to, saying what is open', () => {
    assert.equal(checkCallbackExposure(loadConfig({})), undefined);
    assert.equal(checkCallbackExposure(loadConfig({ HOST: '::1' })), undefined);
    assert.equal(checkCallbackExposure(loadConfig({ HOST: '0.0.0.0', CALLBACK_TOKEN: 's3cret' })), undefined);
    // An empty token is no token.
    assert.throws(() => checkCallbackExposure(loadConfig({ HOST: '0.0.0.0', CALLBACK_TOKEN: '' })), ConfigError);
    assert.equal(
      checkCallbackExposure(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_CALLBACKS: 'true' })),
      'ALLOW_UNAUTHENTICATED_CALLBACKS=true and no CALLBACK_TOKEN: anyone who can reach 0.0.0.0:9090 can post callbacks and read /metrics',
    );
    assert.throws(
      () => checkCallbackExposure(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_CALLBACKS: 'false' })),
      ConfigError,
    );
  });

  it('names every bad variable at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'x', OBJECT_TTL_SECONDS: 'y', TEMPORAL_ADDRESS: 'z' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const name of ['PORT', 'OBJECT_TTL_SECONDS', 'TEMPORAL_ADDRESS'])
          assert.match(error.message, new RegExp(`\\b${name}\\b`));
        return true;
      },
    );
  });
});

describe('.env', () => {
  let saved: NodeJS.ProcessEnv;
  let savedCwd: string;
  let dir: string;

  beforeEach(() => {
    saved = { ...process.env };
    savedCwd = process.cwd();
    dir = mkdtempSync(path.join(tmpdir(), 'presence-dotenv-'));
    process.chdir(dir);
    // Keep the user's own Temporal profile (if any) out of these tests: an empty config file.
    writeFileSync(path.join(dir, 'temporal.toml'), '');
    process.env.TEMPORAL_CONFIG_FILE = path.join(dir, 'temporal.toml');
    for (const name of ['PORT', 'HOST', 'LOG_LEVEL', 'TEMPORAL_NAMESPACE', 'OBJECT_TTL_SECONDS']) {
      delete process.env[name];
    }
  });

  afterEach(() => {
    process.chdir(savedCwd);
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('is read from the current directory by loadConfig(); variables set in the environment win', () => {
    writeFileSync(
      path.join(dir, '.env'),
      '# comment\nPORT=8081\nHOST=0.0.0.0\nLOG_LEVEL="debug"\nTEMPORAL_NAMESPACE=from-file\n',
    );
    process.env.PORT = '8082';
    process.env.LOG_LEVEL = '';
    const config = loadConfig();
    assert.equal(config.port, 8082, 'the environment wins');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.logLevel, 'debug', 'an empty variable counts as unset, so the file fills it');
    assert.equal(config.temporalNamespace, 'from-file', 'the Temporal variables come from .env too');
    // Into process.env, so that processes started from here (npm start's parts) see the same values.
    assert.equal(process.env.HOST, '0.0.0.0');
    assert.equal(process.env.PORT, '8082');
  });

  it('is optional', () => {
    assert.equal(loadDotEnv(dir), undefined);
    assert.equal(loadConfig().port, 9090);
  });

  it('is not read when loadConfig is given an environment of its own', () => {
    writeFileSync(path.join(dir, '.env'), 'PORT=8081\n');
    assert.equal(loadConfig({}).port, 9090);
    assert.equal(process.env.PORT, undefined);
  });

  it('a bad value in it stops start-up naming the variable', () => {
    writeFileSync(path.join(dir, '.env'), 'OBJECT_TTL_SECONDS=soon\n');
    assertNamed(process.env, 'OBJECT_TTL_SECONDS');
  });

  it('an unreadable .env stops start-up naming it', () => {
    mkdirSync(path.join(dir, '.env'));
    assertNamed(process.env, /\.env\b/);
  });
});
