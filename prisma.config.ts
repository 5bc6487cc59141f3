import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';
import { EMBEDDED_DATABASE_URL, loadDotEnv } from './src/defaults';
import { utcConnections } from './src/db/utc-connections';

// Version pins (package.json), verified together on machines without binary downloads:
// - prisma / @prisma/client 6.19.3: the last line whose CLI runs migrations in the "js" engine
//   mode; 7.x downloads a native schema engine for every CLI command.
// - @prisma/adapter-pg 7.10.1: 6.19.3's adapter cannot read PostgreSQL's `name` type, which
//   breaks every migrate command (prisma/prisma#27403); 7.10.1 maps it and works with 6.19.3.
//   test/unit/prisma-adapter-name.test.ts fails on an adapter without that mapping.
// No single line works offline yet: no stable 6.x adapter after 6.19.3, and 7.x has no "js"
// engine mode (its migrate commands run a native schema engine it downloads). `npm run
// check-prisma-line` tries the registry's newest candidates, offline, and says when one works.
// The schema's datasource reads DATABASE_URL even for `prisma generate`, so give it the same
// default the application uses. Without that url, 6.19.3's `generate` fetches a query-engine
// library it never uses (and fails offline); with it, `migrate` warns that the url is unused,
// since the adapter below connects. `npm start` shows that output only when migrating fails.
// Prisma skips .env when a config file exists; read it as the service's parts do.
loadDotEnv();
process.env.DATABASE_URL ||= EMBEDDED_DATABASE_URL;
const databaseUrl = (): string => process.env.DATABASE_URL as string;

export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  adapter: async () => new PrismaPg(utcConnections(databaseUrl())),
});
