import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../dev/support/ports';
import { eventually } from '../../dev/support/wait';

const projectRoot = path.join(__dirname, '..', '..');

describe('the API on a HOST other machines can reach', () => {
  // A directory without a .env, so that no CALLBACK_TOKEN of the developer's fills in the unset one.
  let cwd: string;
  // Stands in for Temporal and the database: refusing must come before connecting to either.
  let services: Server;
  let connections = 0;
  before(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'presence-exposed-'));
    services = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    rmSync(cwd, { recursive: true, force: true });
    await new Promise((resolve) => services.close(resolve));
  });

  /** `npm run api` (scripts/run-built.js api/main) on 0.0.0.0 without a token; `env` adds to that. */
  async function startApi(env: NodeJS.ProcessEnv) {
    const port = await freePort();
    const { port: servicesPort } = services.address() as { port: number };
    const child = spawn(process.execPath, [path.join(projectRoot, 'scripts', 'run-built.js'), 'api/main'], {
      cwd,
      env: {
        ...process.env,
        HOST: '0.0.0.0',
        PORT: String(port),
        CALLBACK_TOKEN: '',
        ALLOW_UNAUTHENTICATED_CALLBACKS: '',
        TEMPORAL_ADDRESS: `127.0.0.1:${servicesPort}`,
        DATABASE_URL: `postgresql://presence@127.0.0.1:${servicesPort}/presence`,
        LOG_FORMAT: 'json',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, port, lines, exited };
  }

  it('without CALLBACK_TOKEN exits non-zero within seconds, naming CALLBACK_TOKEN and the opt-out, before connecting anywhere', async (t) => {
    const started = performance.now();
    const api = await startApi({});
    const timeout = setTimeout(() => api.child.kill('SIGKILL'), 10_000);
    const code = await api.exited;
    clearTimeout(timeout);
    const elapsedMs = Math.round(performance.now() - started);
    const output = api.lines.join('\n');
    t.diagnostic(`exited ${code} after ${elapsedMs} ms: ${output}`);
    assert.equal(code, 1, output);
    assert.ok(elapsedMs < 10_000, `exited after ${elapsedMs} ms`);
    assert.match(output, /\bCALLBACK_TOKEN\b/);
    assert.match(output, /\bALLOW_UNAUTHENTICATED_CALLBACKS=true\b/);
    assert.doesNotMatch(output, /Server listening/);
    assert.equal(connections, 0, 'it connected to Temporal or the database');
  });

  it('with ALLOW_UNAUTHENTICATED_CALLBACKS=true starts, warning that anyone who reaches it can post callbacks and read /metrics', async () => {
    const api = await startApi({ ALLOW_UNAUTHENTICATED_CALLBACKS: 'true' });
    try {
      await eventually(
        async () => {
          if (api.child.exitCode !== null) throw new Error(`the API exited:\n${api.lines.join('\n')}`);
          return api.lines.some((line) => /Server listening/.test(line)) || undefined;
        },
        'the API to listen',
        30_000,
      );
      const warnings = api.lines
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter(({ level }) => level === 40);
      assert.deepEqual(
        warnings.map(({ msg }) => msg),
        [
          `ALLOW_UNAUTHENTICATED_CALLBACKS=true and no CALLBACK_TOKEN: anyone who can reach 0.0.0.0:${api.port} can post callbacks and read /metrics`,
        ],
      );
      assert.equal((await fetch(`http://127.0.0.1:${api.port}/healthz`)).status, 200);
    } finally {
      api.child.kill('SIGTERM');
      await api.exited;
    }
  });
});
