import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';

const REPOSITORY_ROOT = path.join(__dirname, '..', '..');

// Each child gets a process group of its own: Ctrl-C in a terminal signals the whole foreground
// group, and the parent, not the terminal, is to decide in which order its parts stop.

/** Forks an entry point of the built service, `dist/<entry>.js`, as plain Node. */
export function forkBuilt(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  // The harness runs under tsx; the service runs what `npm run build` made, without that loader.
  return fork(path.join(REPOSITORY_ROOT, 'dist', `${entry}.js`), [], {
    env,
    stdio: 'inherit',
    detached: true,
    execArgv: [],
  });
}

/** Forks a module of the harness, under the same loader as this process. */
export function forkHarnessModule(
  relativePath: string,
  env: NodeJS.ProcessEnv,
  stdio: StdioOptions = 'inherit',
): ChildProcess {
  const modulePath = path.join(__dirname, '..', `${relativePath}${path.extname(__filename)}`);
  return fork(modulePath, [], { env, stdio, detached: true });
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves when the child sends `message`; rejects if it exits first. */
export function waitForMessage(child: ChildProcess, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (received: unknown) => {
      if (received !== message) return;
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null, signal: string | null) => {
      child.off('message', onMessage);
      reject(new Error(`child process exited (${signal ?? code}) before it was ready`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
