#!/bin/sh
# Maps the container's command to a role, so one image serves the whole compose file.
set -eu
cd /app

role="${1:-api}"
[ "$#" -gt 0 ] && shift

case "$role" in
  api) exec node dist/api/main.js "$@" ;;
  worker) exec node dist/worker/main.js "$@" ;;
  migrate) exec node_modules/.bin/prisma migrate deploy "$@" ;;
  # Anything else runs as given (sh, node -e ...), for debugging inside the image.
  *) exec "$role" "$@" ;;
esac
