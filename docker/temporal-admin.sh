#!/bin/sh
# One-shot set-up steps for the Temporal server, run in the temporalio/admin-tools image.
#   schema     creates Temporal's two databases and brings their schemas up to this server version
#   namespace  registers TEMPORAL_NAMESPACE once the server answers, waits until it is usable,
#              and registers its ObjectId search attribute
# Both are safe to repeat, so they simply run again on every `docker compose up`.
# schema reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (temporal-sql-tool's own
# variables); namespace reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE.
set -eu

schema() {
  for db in temporal temporal_visibility; do
    if [ "$db" = temporal ]; then dir=temporal; else dir=visibility; fi
    temporal-sql-tool --db "$db" create
    temporal-sql-tool --db "$db" setup-schema -v 0.0
    temporal-sql-tool --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
  done
}

# Retries "$@" once a second for up to $1 seconds.
retry() {
  seconds=$1
  shift
  until "$@"; do
    seconds=$((seconds - 1))
    if [ "$seconds" -le 0 ]; then
      echo "gave up waiting for: $*" >&2
      return 1
    fi
    sleep 1
  done
}

namespace() {
  address=${TEMPORAL_ADDRESS:?}
  ns=${TEMPORAL_NAMESPACE:-default}
  retry 120 temporal operator cluster health --address "$address"
  if ! temporal operator namespace describe --address "$address" --namespace "$ns" >/dev/null 2>&1; then
    temporal operator namespace create --address "$address" --namespace "$ns"
  fi
  # A new namespace reaches the frontend's cache some seconds after it is created; until then the
  # API and the workers would get "namespace not found".
  retry 60 temporal workflow list --address "$address" --namespace "$ns" --limit 1 >/dev/null
  # The workers start object workflows with it only when the namespace has it, so that users find
  # an object's runs in the Web UI with ObjectId = 42. Int, for ranges and numeric order.
  if ! temporal operator search-attribute list --address "$address" --namespace "$ns" |
    grep -Eq '^[[:space:]]*ObjectId[[:space:]]'; then
    temporal operator search-attribute create --address "$address" --namespace "$ns" --name ObjectId --type Int
  fi
  echo "namespace $ns is ready"
}

case "${1:-}" in
  schema) schema ;;
  namespace) namespace ;;
  *)
    echo "usage: $0 schema|namespace" >&2
    exit 2
    ;;
esac
