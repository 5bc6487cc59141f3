import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { eventually } from '../../dev/support/wait';

const projectRoot = path.join(__dirname, '..', '..');

/** `npm run api` / `npm run worker` as their own processes, from the build that `npm test` makes first. */
export class PartProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];

  private constructor(
    readonly part: 'api' | 'worker',
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
    }
  }

  static async start(part: 'api' | 'worker', env: NodeJS.ProcessEnv): Promise<PartProcess> {
    const child = spawn(process.execPath, [path.join('dist', part, 'main.js')], {
      cwd: projectRoot,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = new PartProcess(part, child);
    const readyLine = part === 'api' ? /Server listening/ : /"msg":"worker started"/;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${part} exited early:\n${started.output()}`);
        return started.lines.some((line) => readyLine.test(line)) ? true : undefined;
      },
      `${part} to start`,
      60_000,
    );
    return started;
  }

  /** How many of the lines it has printed match `pattern`. */
  printed(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  output(): string {
    return this.lines.slice(-30).join('\n');
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
