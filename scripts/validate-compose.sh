#!/usr/bin/env bash
# Checks the container setup without a Docker engine: `docker-compose config -q` validates
# docker-compose.yml against the compose schema and resolves its variables, then the scripts the
# containers run get a syntax check. Exits non-zero on the first problem.
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
echo "validate-compose: docker-compose.yml and docker/ scripts are valid"
