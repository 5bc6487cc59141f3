#!/usr/bin/env bash
# Checks the container setup without a Docker engine: `docker-compose config -q` validates
# docker-compose.yml against the compose schema and resolves its variables, then the scripts the
# containers run get a syntax check, the Grafana dashboards must parse as JSON and, where promtool
# is installed (Debian's prometheus package), the Prometheus config gets its check. Exits non-zero
# on the first problem. test/unit/container-setup.test.ts checks what the monitoring files refer
# to: metric names, the datasource uid, the paths the compose file mounts.
# Uses Debian's docker-compose (1.29, which reads compose-spec files; .ci/run installs it) or the
# `docker compose` plugin.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "validate-compose: needs docker-compose (apt-get install docker-compose) or docker compose" >&2
  exit 1
fi

"${compose[@]}" version | sed -n 1p
"${compose[@]}" -f docker-compose.yml config -q
for script in docker/*.sh; do
  sh -n "$script"
done
for dashboard in docker/grafana/dashboards/*.json; do
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$dashboard" ||
    { echo "validate-compose: $dashboard is not valid JSON" >&2; exit 1; }
done
if command -v promtool >/dev/null 2>&1; then
  promtool check config docker/prometheus/prometheus.yml
else
  echo "validate-compose: no promtool here, so docker/prometheus/prometheus.yml is only checked by the unit test"
fi
echo "validate-compose: docker-compose.yml, docker/ scripts, dashboards and Prometheus config are valid"
