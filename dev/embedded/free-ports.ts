import { execFile } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { promisify } from 'node:util';
import { ConfigError } from '../../src/config-error';

/** A port a part of `npm start` is about to listen on, and the setting that moves it elsewhere. */
export interface PlannedPort {
  port: number;
  /** What will listen there, e.g. "the embedded Temporal server". */
  part: string;
  /** What the user can do instead, e.g. "set TEMPORAL_ADDRESS to use that server". */
  remedy: string;
}

/** A setting to change, like a bad variable: the port, or what to set instead. */
export class PortTakenError extends ConfigError {
  override name = 'PortTakenError';
}

/** Whether something accepts connections on the port (of any interface, as seen from loopback). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 1_000 });
    const settle = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    socket.once('timeout', () => settle(false));
  });
}

/** Whether this process could listen on the port on loopback (a listener on 0.0.0.0 takes it too). */
export function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** "temporal (pid 1234)" for the process listening on the port, where lsof or ss can tell. */
async function holderOf(port: number): Promise<string | undefined> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']);
    const pid = /^p(\d+)$/m.exec(stdout)?.[1];
    const command = /^c(.+)$/m.exec(stdout)?.[1];
    if (pid) return `${command ?? 'a process'} (pid ${pid})`;
  } catch {
    // No lsof, or nothing it may see.
  }
  try {
    const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`]);
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    if (match) return `${match[1]} (pid ${match[2]})`;
  } catch {
    // No ss either.
  }
  return undefined;
}

/**
 * Throws a PortTakenError naming the first port that is not free, what holds it where that can be
 * told, and what to do. Checked before anything starts: a part that found its port taken would
 * exit, but a client looking for it there would find the stranger and report ready against it.
 */
export async function assertPortsFree(ports: PlannedPort[]): Promise<void> {
  for (const { port, part, remedy } of ports) {
    if (!(await answers(port)) && (await bindable(port))) continue;
    const holder = await holderOf(port);
    throw new PortTakenError(
      `port ${port}, needed by ${part}, is already in use${holder ? ` by ${holder}` : ''}: stop that process, or ${remedy}`,
    );
  }
}
