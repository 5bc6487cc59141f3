import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bindable } from '../../dev/embedded/free-ports';
import { EMBEDDED_TEMPORAL_PORT } from '../../src/defaults';
import { createTestDatabase, type TestDatabase } from '../../dev/support/database';
import { groupAlive, killGroup, readyOn, runNpmStart } from '../support/npm-start';
import { freePort } from '../../dev/support/ports';
import { eventually } from '../../dev/support/wait';

describe('npm start, stopped with Ctrl-C', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database?.drop());

  it('stops the API, then drains the worker, then the embedded Temporal server, each once, and leaves no process', async (t) => {
    const port = await freePort();
    const workerHealthPort = await freePort();
    const system = runNpmStart({
      ...process.env,
      PORT: String(port),
      DATABASE_URL: database.url,
      WORKER_METRICS_PORT: String(await freePort()),
      WORKER_HEALTH_PORT: String(workerHealthPort),
      LOG_LEVEL: 'info',
    });
    try {
      // The worker too: one stopped before it has installed its signal handlers has nothing to drain.
      await readyOn(system, port, workerHealthPort);
      const callback = await fetch(`http://127.0.0.1:${port}/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"object_ids": [1, 2, 3]}',
      });
      assert.equal(callback.status, 202);

      // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
      process.kill(-system.groupId, 'SIGINT');
      const code = await system.exited;
      await eventually(
        async () => (groupAlive(system.groupId) ? undefined : true),
        'every process of the group to exit',
        10_000,
      );
      const index = (pattern: RegExp) => system.lines.findIndex((line) => pattern.test(line));
      const apiClosed = index(/"name":"api".*"msg":"shutting down"/);
      const workerStopped = index(/"name":"worker".*"msg":"worker stopped"/);
      t.diagnostic(
        `exit code ${code}; api closed at line ${apiClosed}, worker stopped at line ${workerStopped} of ${system.lines.length}`,
      );
      assert.equal(code, 0, system.tail());
      assert.ok(apiClosed >= 0 && workerStopped > apiClosed, 'the API stops before the worker drains');
      assert.equal(index(/second signal/), -1, 'no part was signalled twice');
      assert.equal(index(/npm start is gone/), -1, 'nothing was left for the reaper');
    } finally {
      killGroup(system);
    }
  });
});

describe('npm start, when what started it is killed', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database?.drop());

  it('stops every part, as on Ctrl-C, and frees their ports', async () => {
    const port = await freePort();
    const workerHealthPort = await freePort();
    const system = runNpmStart(
      {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: database.url,
        WORKER_METRICS_PORT: String(await freePort()),
        WORKER_HEALTH_PORT: String(workerHealthPort),
      },
      { underOwner: true },
    );
    try {
      await readyOn(system, port, workerHealthPort);
      // kill -9 of npm: its child, the starter, lives on, re-parented.
      process.kill(system.process.pid as number, 'SIGKILL');
      await eventually(
        async () => {
          for (const taken of [port, workerHealthPort, EMBEDDED_TEMPORAL_PORT])
            if (!(await bindable(taken))) return undefined;
          return groupAlive(system.groupId) ? undefined : true;
        },
        'the starter and every part to stop',
        // The worker's forced shutdown (20 s) bounds its drain when checks retry against no object service.
        60_000,
      );
      assert.equal(
        system.lines.findIndex((line) => /npm start is gone/.test(line)),
        -1,
        `the starter stopped its parts itself:\n${system.tail()}`,
      );
    } finally {
      killGroup(system);
    }
  });
});

describe('npm start, with a port already taken', () => {
  let stranger: Server;
  before(async () => {
    // Anything listening there, like a Temporal server left over from another run.
    stranger = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => stranger.listen(EMBEDDED_TEMPORAL_PORT, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => stranger.close(() => resolve())));

  it('exits non-zero with one line naming the port, before starting anything', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', PORT: String(await freePort()) };
    delete env.TEMPORAL_ADDRESS;
    const system = runNpmStart(env);
    try {
      const code = await Promise.race([
        system.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), 60_000)),
      ]);
      assert.equal(code, 1, system.tail());
      const fatal = system.lines.filter((line) => line.includes('"level":60'));
      assert.equal(fatal.length, 1, system.tail());
      assert.match(fatal[0]!, new RegExp(`port ${EMBEDDED_TEMPORAL_PORT}, needed by the embedded Temporal server`));
      assert.match(fatal[0]!, /TEMPORAL_ADDRESS/);
      assert.equal(system.lines.length, 1, 'nothing else was started or said');
    } finally {
      killGroup(system);
    }
  });
});
