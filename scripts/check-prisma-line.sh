#!/usr/bin/env bash
# Does the registry now hold a Prisma line that makes the mixed-major pin unnecessary?
#   A) a stable @prisma/adapter-pg 6.x newer than 6.19.3 that works with the 6.19.3 CLI/client, or
#   B) a stable prisma >= 7 whose CLI runs generate/migrate without downloading an engine.
# Each candidate is installed in a fresh temp dir (--ignore-scripts) and exercised against a
# fresh database, with engine downloads forced to fail (unreachable mirror, empty cache) so the
# verdict is "works offline" even on a machine with internet.
# Usage: ADMIN_URL=postgresql://postgres@127.0.0.1:5432/postgres scripts/check-prisma-line.sh
# Exit: 0 = the pin is still needed; 1 = some candidate works (re-pin); 2 = script error.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADMIN_URL=${ADMIN_URL:?set ADMIN_URL to a PostgreSQL URL allowed to CREATE DATABASE}
WORK=$(mktemp -d /tmp/prisma-line-check.XXXX); trap 'rm -rf "$WORK"' EXIT
export PRISMA_ENGINES_MIRROR=http://127.0.0.1:9 XDG_CACHE_HOME=$WORK/cache PRISMA_HIDE_UPDATE_MESSAGE=1

newest() { # newest stable version of package $1 matching regex $2 and newer than $3
  npm view "$1" versions --json | node -e '
    const [re, after] = process.argv.slice(1); const cmp = (a, b) => { const x = a.split(".").map(Number), y = b.split(".").map(Number); for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; };
    const v = JSON.parse(require("fs").readFileSync(0, "utf8")).filter((s) => /^\d+\.\d+\.\d+$/.test(s) && new RegExp(re).test(s) && cmp(s, after) > 0).sort(cmp);
    console.log(v.at(-1) ?? "")' "$2" "$3"
}

probe() { # probe NAME MAJOR prisma@X @prisma/client@Y @prisma/adapter-pg@Z
  local name=$1 major=$2; shift 2; local dir=$WORK/$name db=prisma_line_check_$RANDOM
  mkdir -p "$dir" && cp -r "$ROOT/prisma" "$dir/" && cd "$dir" || return 2
  echo '{"private":true}' > package.json
  npm install --ignore-scripts --no-audit --no-fund --save-exact "$@" tsx >/dev/null 2>&1 || { echo "$name: install failed"; return 2; }
  local url=${ADMIN_URL%/*}/$db diffflag=--to-schema-datamodel
  if [ "$major" -ge 7 ]; then
    diffflag=--to-schema; sed -i -e '/^\s*url\s*=/d' -e '/engineType/d' prisma/schema.prisma
    printf '%s\n' "import { defineConfig } from 'prisma/config';" \
      "export default defineConfig({ schema: 'prisma/schema.prisma', migrations: { path: 'prisma/migrations' }, datasource: { url: process.env.DATABASE_URL! } });" > prisma.config.ts
  else
    printf '%s\n' "import { PrismaPg } from '@prisma/adapter-pg'; import { defineConfig } from 'prisma/config';" \
      "export default defineConfig({ engine: 'js', experimental: { adapter: true }, schema: 'prisma/schema.prisma', migrations: { path: 'prisma/migrations' }, adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });" > prisma.config.ts
  fi
  printf '%s\n' "import { PrismaClient } from './src/generated/prisma/client'; import { PrismaPg } from '@prisma/adapter-pg';" \
    "const p = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });" \
    "p.\$queryRawUnsafe('SELECT 1').then(() => p.trackedObject.count()).then(() => p.\$disconnect()).catch((e) => { console.error(e); process.exit(1); });" > query.ts
  node -e 'const { Client } = require("pg"); const c = new Client(process.argv[1]); c.connect().then(() => c.query(`CREATE DATABASE ${process.argv[2]}`)).then(() => c.end())' "$ADMIN_URL" "$db" || return 2
  local ok=0; export DATABASE_URL=$url
  for cmd in "prisma generate" "prisma migrate deploy" "prisma migrate status" \
             "prisma migrate diff --from-empty $diffflag prisma/schema.prisma --script" "tsx query.ts"; do
    if timeout 300 npx $cmd > out.log 2>&1; then echo "  ok   $cmd"; else ok=1; echo "  FAIL $cmd: $(grep -m1 -iE 'error' out.log)"; fi
  done
  node -e 'const { Client } = require("pg"); const c = new Client(process.argv[1]); c.connect().then(() => c.query(`DROP DATABASE ${process.argv[2]}`)).then(() => c.end())' "$ADMIN_URL" "$db"
  cd "$ROOT"; return $ok
}

status=0
a6=$(newest @prisma/adapter-pg '^6\.' 6.19.3)
if [ -n "$a6" ]; then
  echo "A) @prisma/adapter-pg $a6 with prisma/@prisma/client 6.19.3"
  probe a6 6 prisma@6.19.3 @prisma/client@6.19.3 @prisma/adapter-pg@"$a6" && { echo "=> WORKS: pin adapter-pg $a6 (single 6.x line)"; status=1; }
else echo "A) no stable @prisma/adapter-pg 6.x newer than 6.19.3"; fi
p=$(npm view prisma dist-tags.latest); c=$(npm view @prisma/client dist-tags.latest); a=$(npm view @prisma/adapter-pg dist-tags.latest)
echo "B) newest stable: prisma $p, @prisma/client $c, @prisma/adapter-pg $a"
probe b "${p%%.*}" prisma@"$p" @prisma/client@"$c" @prisma/adapter-pg@"$a" && { echo "=> WORKS: move to the $p line"; status=1; }
[ $status = 0 ] && echo "=> the mixed-major pin is still needed"
exit $status
