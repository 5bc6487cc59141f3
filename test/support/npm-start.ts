import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { eventually } from '../../dev/support/wait';

const projectRoot = path.join(__dirname, '..', '..');

export interface StartedSystem {
  process: ChildProcess;
  /** The starter's process group: its own, as in a terminal. */
  groupId: number;
  /** Every line it and its parts printed, stdout and stderr. */
  lines: string[];
  exited: Promise<number | null>;
  /** The last lines, to show when an assertion fails. */
  tail(): string;
}

/**
 * What `npm start` runs (after its build), in a process group of its own. `underOwner`: started
 * by a shell that stays its parent, as npm is, so a test can kill the owner instead.
 */
export function runNpmStart(env: NodeJS.ProcessEnv, { underOwner = false } = {}): StartedSystem {
  const command = [process.execPath, '--import', 'tsx', path.join('dev', 'start.ts')];
  const [file, ...args] = underOwner ? ['/bin/sh', '-c', '"$@" & wait', 'sh', ...command] : command;
  const child = spawn(file!, args, {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  return {
    process: child,
    groupId: child.pid as number,
    lines,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    tail: () => lines.slice(-30).join('\n'),
  };
}

/**
 * Resolves once every `/readyz` given answers ready: the API's port, and the worker's probe port
 * where the test needs the worker running too (it starts more slowly than the API).
 */
export async function readyOn(system: StartedSystem, ...ports: number[]): Promise<void> {
  await eventually(
    async () => {
      if (system.process.exitCode !== null) throw new Error(`npm start exited:\n${system.tail()}`);
      for (const port of ports) if (!(await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return undefined;
      return true;
    },
    'npm start to be ready',
    180_000,
  );
}

/** Whether any process of the group is still alive. */
export function groupAlive(groupId: number): boolean {
  try {
    process.kill(-groupId, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills what is left of the group, for a test's cleanup. */
export function killGroup(system: StartedSystem): void {
  if (groupAlive(system.groupId)) process.kill(-system.groupId, 'SIGKILL');
}
