// `npm run studio`: Prisma Studio on DATABASE_URL (default: the embedded database `npm start`
// serves), at http://127.0.0.1:5555 (`npm run studio -- --port N --host H` to change). It has no
// login: whoever reaches its port runs any SQL, so it stays on loopback unless told otherwise.
//
// Why not `prisma studio`: the 6.19.3 CLI's Studio downloads a query-engine library to read the
// schema, so its page stays blank without internet. Prisma 7.10's Studio needs no binary, but its
// CLI cannot sit beside 6.19.3: both packages own node_modules/.bin/prisma, whichever npm links
// last runs `prisma generate`/`migrate`, and 7.x downloads a schema engine for those. So this file
// does what 7.10.1's `prisma studio` does, with the package that Studio is, @prisma/studio-core:
// it serves the Studio UI (bundled by esbuild at start-up) and runs the SQL the page posts to
// /bff on PostgreSQL through the `postgres` driver.
//
// Versions (devDependencies, pinned): @prisma/studio-core 0.33.0 and postgres 3.4.7, the ones
// prisma 7.10.1's Studio runs on; react/react-dom 19.2.9, the 19.2 line its UI is bundled with
// there; esbuild 0.28.2, the copy tsx already brings. After moving any: test/browser/studio.test.ts.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { serializeError, type StudioBFFRequest } from '@prisma/studio-core/data/bff';
import { createPostgresJSExecutor } from '@prisma/studio-core/data/postgresjs';
import { build } from 'esbuild';
import postgres from 'postgres';
import { isLoopbackHost } from '../src/config';
import { EMBEDDED_DATABASE_URL, loadDotEnv, withoutPassword } from '../src/defaults';

const { values: options } = parseArgs({
  options: { port: { type: 'string', default: '5555' }, host: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(options.port);
// Like the service's own parts, Studio reads a .env file when there is one.
loadDotEnv();
const databaseUrl = process.env.DATABASE_URL || EMBEDDED_DATABASE_URL;

const CLIENT = `
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { Studio } from '@prisma/studio-core/ui';
import { createStudioBFFClient } from '@prisma/studio-core/data/bff';
import { createPostgresAdapter } from '@prisma/studio-core/data/postgres-core';
// Studio's own telemetry ping (std-env reads this environment in a browser): off, as CHECKPOINT_DISABLE=1 does.
globalThis.__env__ = { CHECKPOINT_DISABLE: '1' };
const adapter = createPostgresAdapter({ executor: createStudioBFFClient({ url: '/bff' }) });
createRoot(document.getElementById('root')).render(createElement(Studio, { adapter }));
`;

const PAGE = `<!doctype html>
<html lang="en" style="height: 100%">
  <head>
    <meta charset="utf-8" />
    <title>Prisma Studio</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/studio.css" />
  </head>
  <body style="height: 100%; margin: 0"><div id="root" style="height: 100%"></div><script type="module" src="/studio.js"></script></body>
</html>`;

async function main(): Promise<void> {
  const bundle = await build({
    stdin: { contents: CLIENT, resolveDir: __dirname, loader: 'js' },
    bundle: true,
    format: 'esm',
    minify: true,
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const assets: Record<string, [string, string | Uint8Array]> = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/studio.js': ['text/javascript; charset=utf-8', bundle.outputFiles[0]!.contents],
    '/studio.css': ['text/css; charset=utf-8', readFileSync(require.resolve('@prisma/studio-core/ui/index.css'))],
  };

  const sql = postgres(databaseUrl, { onnotice: () => {} });
  const executor = createPostgresJSExecutor(sql);

  // What the BFF client expects back: [serialized error] or [null, result] (as prisma 7.10.1's CLI
  // answers; "sequence" is only used by the MySQL adapter).
  async function answer(request: StudioBFFRequest): Promise<unknown> {
    const [error, result] =
      request.procedure === 'query'
        ? await executor.execute(request.query)
        : request.procedure === 'transaction'
          ? await executor.executeTransaction!(request.queries)
          : request.procedure === 'sql-lint'
            ? await executor.lintSql!({ sql: request.sql, schemaVersion: request.schemaVersion })
            : [new Error(`Procedure ${request.procedure} is not supported here`)];
    return error ? [serializeError(error)] : [null, result];
  }

  // Only pages served from here may post queries: a page of another site (or a DNS name rebound
  // to this address) has another Origin.
  const ownOrigins = new Set([
    `http://127.0.0.1:${port}`,
    `http://localhost:${port}`,
    `http://${options.host}:${port}`,
  ]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://studio').pathname;
    if (req.headers.origin !== undefined && !ownOrigins.has(req.headers.origin)) {
      res.writeHead(403).end('Forbidden');
    } else if (req.method === 'POST' && path === '/bff') {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await answer(JSON.parse(body))));
    } else if (req.method === 'GET' && assets[path]) {
      const [type, content] = assets[path];
      res.writeHead(200, { 'content-type': type }).end(content);
    } else {
      res.writeHead(404).end('Not Found');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[studio]', error);
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  server.listen(port, options.host, () => {
    const database = withoutPassword(databaseUrl);
    if (!isLoopbackHost(options.host))
      console.warn(
        `Prisma Studio listens on ${options.host}, not on loopback: anyone who can reach port ${port} there gets ` +
          `full read/write SQL access to ${database} (as its user), with no login.`,
      );
    console.log(`Prisma Studio for ${database} is running at http://${options.host}:${port}`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void sql.end({ timeout: 1 });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
