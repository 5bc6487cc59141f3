import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
// yaml comes with @fastify/swagger (its YAML output), a dependency of the API.
import { parse as parseYaml } from 'yaml';
import { isLoopbackHost } from '../../src/config';

const projectRoot = path.join(__dirname, '..', '..');
const hasCompose =
  spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ||
  spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;

describe('container setup', () => {
  it(
    'docker-compose.yml and the container scripts are valid',
    { skip: hasCompose ? false : 'no docker-compose here (.ci/run installs it)' },
    () => {
      const result = spawnSync('bash', ['scripts/validate-compose.sh'], { cwd: projectRoot, encoding: 'utf8' });
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    },
  );
});

// The monitoring files are checked against each other and against the compose file, without Docker.

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');
const readYaml = (file: string): any => parseYaml(read(file), { merge: true });
const compose = readYaml('docker-compose.yml');
const dashboardDir = 'docker/grafana/dashboards';
const dashboardFile = `${dashboardDir}/presence.json`;
const prometheusFile = 'docker/prometheus/prometheus.yml';
const datasourceFile = 'docker/grafana/provisioning/datasources/prometheus.yaml';
const dashboardProviderFile = 'docker/grafana/provisioning/dashboards/presence.yaml';

/** Where a service bind-mounts a path of this repository (short syntax, `./path:/target[:ro]`). */
function mountTarget(service: string, repoPath: string): string | undefined {
  for (const volume of (compose.services[service]?.volumes ?? []) as string[]) {
    const [source, target] = volume.split(':');
    if (source !== undefined && path.normalize(source) === path.normalize(repoPath)) return target;
  }
  return undefined;
}

/**
 * Every metric the service exports (docs/operations.md, Metrics), under the names they
 * really have: the worker's come from the Temporal SDK's Prometheus exporter with
 * countersTotalSuffix and useSecondsForDurations, which keeps latency names without a unit
 * suffix, appends no unit to our gauge in seconds, and appends _total to the SDK's counters
 * (activity_execution_failed becomes temporal_activity_execution_failed_total, and
 * local_activity_total temporal_local_activity_total_total).
 */
const histogram = (name: string) => [`${name}_bucket`, `${name}_sum`, `${name}_count`];
const knownMetrics = new Set([
  // API (prom-client), GET /metrics on 9090; its process metrics are not used by the dashboard.
  'presence_callbacks_total',
  'presence_callbacks_recorded_total',
  'presence_callback_ids_recorded_total',
  ...histogram('presence_callback_duration_seconds'),
  // Worker, /metrics on 9464: ours.
  'presence_handout_backlog',
  'presence_handout_lag_seconds',
  'presence_sightings_coalesced_total',
  'presence_sightings_expired_total',
  'presence_outbox_callbacks',
  'presence_outbox_oldest_age_seconds',
  'presence_objects_deleted_total',
  ...histogram('presence_check_wait_seconds'),
  ...histogram('presence_row_delay_seconds'),
  'presence_object_service_requests',
  'presence_object_service_waiting',
  // Worker: the Temporal SDK's. Checks and writes are local activities; the hand-outs and the cleanup regular ones.
  'temporal_local_activity_total_total',
  'temporal_local_activity_execution_failed_total',
  'temporal_local_activity_execution_cancelled_total',
  ...histogram('temporal_local_activity_execution_latency'),
  ...histogram('temporal_local_activity_succeed_endtoend_latency'),
  'temporal_activity_task_received_total',
  'temporal_activity_execution_failed_total',
  ...histogram('temporal_activity_execution_latency'),
  ...histogram('temporal_activity_schedule_to_start_latency'),
  ...histogram('temporal_activity_succeed_endtoend_latency'),
  ...histogram('temporal_workflow_task_execution_latency'),
  ...histogram('temporal_workflow_task_schedule_to_start_latency'),
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_workflow_completed_total',
  // Prometheus's own, per target.
  'up',
]);

const promqlWords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The metrics a PromQL expression reads; throws on a name, or a __name__ matcher, that is not known. */
function metricsOf(expr: string): string[] {
  const found: string[] = [];
  // __name__ matchers: each must match at least one known metric.
  for (const match of expr.matchAll(/__name__\s*(=~|=)\s*"([^"]*)"/g)) {
    const [, op, value = ''] = match;
    const pattern = new RegExp(`^(?:${op === '=~' ? value : value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})$`);
    const names = [...knownMetrics].filter((name) => pattern.test(name));
    assert.ok(names.length > 0, `__name__${op}"${value}" in ${expr} matches no known metric`);
    found.push(...names);
  }
  // What is left outside label matchers, strings, ranges and grouping labels are metric names,
  // function names (followed by a parenthesis) and keywords.
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const match of bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    const [, word = '', call] = match;
    if (call || promqlWords.has(word.toLowerCase())) continue;
    assert.ok(knownMetrics.has(word), `${word} in ${expr} is not a metric the service exports`);
    found.push(word);
  }
  return found;
}

describe('monitoring setup', () => {
  it('the query check knows metric names from typos', () => {
    assert.deepEqual(metricsOf('sum by (outcome) (rate(presence_callbacks_total{outcome!="x"}[$__rate_interval]))'), [
      'presence_callbacks_total',
    ]);
    assert.deepEqual(metricsOf('max({__name__=~"presence_outbox_oldest_age(_seconds)?"}) or vector(0)'), [
      'presence_outbox_oldest_age_seconds',
    ]);
    assert.throws(() => metricsOf('rate(presence_callback_total[1m])'), /presence_callback_total/);
    assert.throws(() => metricsOf('{__name__=~"presence_nothing_.*"}'), /matches no known metric/);
  });

  it('Prometheus scrapes the API and every worker replica where they serve metrics', () => {
    const prometheus = compose.services.prometheus;
    assert.ok(prometheus, 'docker-compose.yml has a prometheus service');
    assert.match(
      prometheus.image,
      /^prom\/prometheus:\$\{PROMETHEUS_VERSION:-v\d+\.\d+\.\d+\}$/,
      'official image, pinned tag',
    );
    const configFlag = (prometheus.command as string[]).find((arg) => arg.startsWith('--config.file='));
    assert.equal(mountTarget('prometheus', `./${prometheusFile}`), configFlag?.slice('--config.file='.length));

    const jobs = readYaml(prometheusFile).scrape_configs as any[];
    const api = jobs.find((job) => job.job_name === 'presence-api');
    assert.deepEqual(
      api?.static_configs?.flatMap((c: any) => c.targets),
      ['api:9090'],
    );
    assert.ok(
      (compose.services.api.ports as string[]).some((p) => p.endsWith(':9090')),
      'the API listens on 9090',
    );

    // One target per replica of `docker compose up --scale worker=N`, through Docker's DNS.
    const worker = jobs.find((job) => job.job_name === 'presence-worker');
    assert.deepEqual(worker?.dns_sd_configs, [{ names: ['worker'], type: 'A', port: 9464, refresh_interval: '5s' }]);
    assert.equal(
      compose.services.worker.environment.WORKER_METRICS_PORT,
      undefined,
      'the worker keeps its default metrics port, 9464',
    );
  });

  it("the worker's health check asks its readiness probe, on its default port", () => {
    assert.equal(
      compose.services.worker.environment.WORKER_HEALTH_PORT,
      undefined,
      'the worker keeps its default probe port, 9465',
    );
    assert.match(compose.services.worker.healthcheck.test.join(' '), /http:\/\/127\.0\.0\.1:9465\/readyz/);
  });

  it('Grafana is provisioned with the datasource and the dashboards the compose file mounts', () => {
    const grafana = compose.services.grafana;
    assert.ok(grafana, 'docker-compose.yml has a grafana service');
    assert.match(grafana.image, /^grafana\/grafana:\$\{GRAFANA_VERSION:-\d+\.\d+\.\d+\}$/, 'pinned tag');
    assert.equal(
      mountTarget('grafana', './docker/grafana/provisioning/datasources'),
      '/etc/grafana/provisioning/datasources',
    );
    assert.equal(
      mountTarget('grafana', './docker/grafana/provisioning/dashboards'),
      '/etc/grafana/provisioning/dashboards',
    );
    assert.equal(grafana.environment.GF_AUTH_ANONYMOUS_ENABLED, 'true');
    assert.equal(grafana.environment.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer');

    // The provider reads the folder the compose file mounts the dashboards at.
    const dashboardsTarget = mountTarget('grafana', `./${dashboardDir}`);
    assert.ok(dashboardsTarget, `grafana mounts ./${dashboardDir}`);
    const providers = readYaml(dashboardProviderFile).providers as any[];
    assert.deepEqual(
      providers.map((p) => [p.type, p.options?.path]),
      [['file', dashboardsTarget]],
    );
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    assert.equal(path.posix.dirname(home), dashboardsTarget);
    assert.ok(
      existsSync(path.join(projectRoot, dashboardDir, path.posix.basename(home))),
      `${home} is a file of ${dashboardDir}`,
    );

    const [datasource, ...others] = readYaml(datasourceFile).datasources as any[];
    assert.equal(others.length, 0);
    assert.equal(datasource.type, 'prometheus');
    assert.equal(datasource.url, 'http://prometheus:9090');
    assert.ok(datasource.uid, 'the datasource has a fixed uid for the dashboards to use');
  });

  it('the dashboard uses the provisioned datasource by uid, and every query reads metrics the service exports', () => {
    const { uid } = (readYaml(datasourceFile).datasources as any[])[0];
    const dashboard = JSON.parse(read(dashboardFile));
    assert.ok(dashboard.uid && dashboard.title);
    assert.equal(dashboard.__inputs, undefined, 'no datasource inputs to fill in at import');
    const panels = (dashboard.panels as any[]).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');

    const used = new Set<string>();
    const queryPanels = panels.filter((panel) => panel.type !== 'row');
    assert.ok(queryPanels.length >= 10);
    for (const panel of queryPanels) {
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid }, `panel "${panel.title}"`);
      assert.ok(panel.targets?.length > 0, `panel "${panel.title}" has queries`);
      for (const target of panel.targets) {
        assert.deepEqual(
          target.datasource,
          { type: 'prometheus', uid },
          `panel "${panel.title}" query ${target.refId}`,
        );
        const metrics = metricsOf(target.expr);
        assert.ok(metrics.length > 0, `panel "${panel.title}" query ${target.refId} reads a metric`);
        if (metrics.includes('up'))
          assert.match(
            target.expr,
            /\bup\{job="presence-(api|worker)"/,
            `panel "${panel.title}": up of one of our scrape jobs`,
          );
        metrics.forEach((metric) => used.add(metric));
      }
    }
    // The panels asked for: callbacks by outcome, ack latency, recording store, hand-out backlog
    // (ids and lag), outbox size and age, checks and writes without a request, their failures,
    // their duration per attempt and end to end, the other activities' failures, deletions,
    // coalesced and expired sightings, freshness (sighting to request and to row), object
    // service load.
    for (const metric of [
      'presence_callbacks_total',
      'presence_callback_duration_seconds_bucket',
      'presence_callbacks_recorded_total',
      'presence_handout_backlog',
      'presence_handout_lag_seconds',
      'presence_outbox_callbacks',
      'presence_outbox_oldest_age_seconds',
      'temporal_local_activity_total_total',
      'temporal_local_activity_execution_failed_total',
      'temporal_local_activity_execution_latency_bucket',
      'temporal_local_activity_succeed_endtoend_latency_bucket',
      'temporal_activity_execution_failed_total',
      'presence_objects_deleted_total',
      'presence_sightings_expired_total',
      'presence_sightings_coalesced_total',
      'presence_check_wait_seconds_bucket',
      'presence_row_delay_seconds_bucket',
      'presence_object_service_requests',
      'presence_object_service_waiting',
    ]) {
      assert.ok(used.has(metric), `a panel shows ${metric}`);
    }
  });

  it('every service another waits for as healthy has a health check', () => {
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const [dependency, condition] of Object.entries<any>(service.depends_on ?? {})) {
        if (condition?.condition !== 'service_healthy') continue;
        assert.ok(
          compose.services[dependency]?.healthcheck,
          `${name} waits for ${dependency} to be healthy, which has no health check`,
        );
      }
    }
    assert.equal(compose.services.tester.depends_on.worker.condition, 'service_healthy');
  });

  it("keeps the development harness out of the service's image", () => {
    const stages = read('Dockerfile')
      .split(/^FROM /m)
      .slice(1);
    const runtime = stages.at(-1) ?? '';
    assert.match(runtime, /^\S+ AS runtime/, 'the service is the default (last) stage');
    assert.doesNotMatch(runtime, /\bdev\b|tsx/, 'the service image copies nothing of dev/');
    assert.equal(compose.services.tester.build.target, 'tester');
    assert.notEqual(compose.services.tester.image, compose.services.api.image);
    assert.doesNotMatch(read('docker/entrypoint.sh'), /tester/);
  });
});

/**
 * The host address every published port of every service binds to, by service: undefined where
 * Compose publishes on all the host's interfaces (no address, or a container port alone).
 */
function publishedAddresses(): Array<{ service: string; port: string; address: string | undefined }> {
  return Object.entries<any>(compose.services).flatMap(([service, definition]) =>
    ((definition.ports ?? []) as Array<string | number | { host_ip?: string; published?: string }>).map((port) => {
      if (typeof port === 'object') return { service, port: JSON.stringify(port), address: port.host_ip };
      const text = String(port);
      const bracketed = /^\[([^\]]+)\]:/.exec(text);
      const parts = text.split(':');
      return { service, port: text, address: bracketed?.[1] ?? (parts.length === 3 ? parts[0] : undefined) };
    }),
  );
}

describe('what Compose exposes', () => {
  it('publishes every port on the loopback of the host, never on all its interfaces', () => {
    const published = publishedAddresses();
    assert.ok(
      published.length >= 6,
      'the API, the Web UI, Grafana, Prometheus, the database and Temporal are published',
    );
    for (const { service, port, address } of published)
      assert.ok(address && isLoopbackHost(address), `${service} publishes ${port} beyond the host's loopback`);
    for (const [name, service] of Object.entries<any>(compose.services))
      assert.notEqual(service.network_mode, 'host', `${name} shares the host's network`);
  });

  it('the tester sends the CALLBACK_TOKEN the API requires', () => {
    const { api, tester } = compose.services;
    assert.equal(tester.environment.CALLBACK_TOKEN, api.environment.CALLBACK_TOKEN);
    assert.match(api.environment.CALLBACK_TOKEN, /^\$\{CALLBACK_TOKEN:-\}$/, 'from the environment, no default token');
  });

  it('the Temporal Web UI is read-only', () => {
    assert.equal(compose.services['temporal-ui'].environment.TEMPORAL_DISABLE_WRITE_ACTIONS, 'true');
  });

  it('the service connects as a role that owns its database and nothing more, not as the superuser', () => {
    const postgres = compose.services.postgres;
    const superuser = postgres.environment.POSTGRES_USER ?? 'postgres';
    const initTarget = mountTarget('postgres', './docker/app-db-init.sql');
    assert.match(
      initTarget ?? '',
      /^\/docker-entrypoint-initdb\.d\//,
      'the role is made when the database is first initialised',
    );
    const init = read('docker/app-db-init.sql');

    const users = Object.entries<any>(compose.services).flatMap(([name, service]) => {
      const url = service.environment?.DATABASE_URL as string | undefined;
      return url ? [{ name, url: new URL(url) }] : [];
    });
    assert.deepEqual(
      users.map(({ name }) => name).sort(),
      ['api', 'migrate', 'tester', 'worker'],
      'the API, the workers and the migrations (and the tester, which shares their settings)',
    );
    for (const { name, url } of users) {
      assert.equal(url.hostname, 'postgres', `${name} uses the app database`);
      const role = decodeURIComponent(url.username);
      const database = url.pathname.slice(1);
      assert.notEqual(role, superuser, `${name} connects as the superuser`);
      assert.notEqual(database, 'postgres', `${name} uses the administration database`);
      const created = new RegExp(`^CREATE ROLE ${role} (.*);$`, 'm').exec(init);
      assert.ok(created, `docker/app-db-init.sql creates the role ${role}`);
      const attributes = created[1]!.split(/\s+/);
      for (const attribute of ['NOSUPERUSER', 'NOCREATEDB', 'NOCREATEROLE', 'NOREPLICATION', 'NOBYPASSRLS'])
        assert.ok(attributes.includes(attribute), `${role} is ${attribute}`);
      assert.match(init, new RegExp(`^CREATE DATABASE ${database} OWNER ${role};$`, 'm'), `${role} owns ${database}`);
    }
    assert.doesNotMatch(init, /\bGRANT\b/, 'the role gets nothing beyond what it owns');
  });
});
