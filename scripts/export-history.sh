#!/usr/bin/env bash
# Exports a workflow's history from a running Temporal server into the replay fixtures, so the
# replay test checks every later change of the workflow code against it.
#   npm run export-history -- <workflow-id> <fixture-name> [run-id]
set -euo pipefail
workflow_id=${1:?usage: export-history <workflow-id> <fixture-name> [run-id]}
name=${2:?usage: export-history <workflow-id> <fixture-name> [run-id]}
run_args=()
if [[ -n "${3:-}" ]]; then run_args=(--run-id "$3"); fi
out="$(dirname "$0")/../test/histories/${name}.json"
temporal workflow show \
  --address "${TEMPORAL_ADDRESS:-127.0.0.1:7233}" \
  --namespace "${TEMPORAL_NAMESPACE:-default}" \
  --workflow-id "$workflow_id" "${run_args[@]}" \
  --output json > "$out"
echo "wrote $out"
