import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { eventually } from '../support/wait';

const projectRoot = path.join(__dirname, '..', '..');

/** Whether any process of the group is still alive. */
function groupAlive(groupId: number): boolean {
  try {
    process.kill(-groupId, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start, stopped with Ctrl-C', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database?.drop());

  it('stops the API, then drains the worker, then the embedded Temporal server, each once, and leaves no process', async (t) => {
    const port = await freePort();
    // Detached: the started system is a process group of its own, as in a terminal.
    const start = spawn(process.execPath, ['--import', 'tsx', path.join('dev', 'start.ts')], {
      cwd: projectRoot,
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: database.url,
        WORKER_METRICS_PORT: String(await freePort()),
        WORKER_HEALTH_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: string[] = [];
    for (const stream of [start.stdout, start.stderr])
      createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
    const groupId = start.pid as number;
    try {
      await eventually(
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
        'npm start to be ready',
        120_000,
      );
      const callback = await fetch(`http://127.0.0.1:${port}/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"object_ids": [1, 2, 3]}',
      });
      assert.equal(callback.status, 202);

      // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
      process.kill(-groupId, 'SIGINT');
      const code = await exited;
      await eventually(
        async () => (groupAlive(groupId) ? undefined : true),
        'every process of the group to exit',
        10_000,
      );
      const index = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
      const apiClosed = index(/"name":"api".*"msg":"shutting down"/);
      const workerStopped = index(/"name":"worker".*"msg":"worker stopped"/);
      t.diagnostic(
        `exit code ${code}; api closed at line ${apiClosed}, worker stopped at line ${workerStopped} of ${lines.length}`,
      );
      assert.equal(code, 0, lines.slice(-20).join('\n'));
      assert.ok(apiClosed >= 0 && workerStopped > apiClosed, 'the API stops before the worker drains');
      assert.equal(index(/second signal/), -1, 'no part was signalled twice');
    } finally {
      if (groupAlive(groupId)) process.kill(-groupId, 'SIGKILL');
    }
  });
});
