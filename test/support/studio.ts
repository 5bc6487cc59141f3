import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { saveScreenshot } from './browser';
import { freePort } from '../../dev/support/ports';
import { eventually } from '../../dev/support/wait';

const projectRoot = path.join(__dirname, '..', '..');

export interface RunningStudio {
  url: string;
  stop(): Promise<void>;
}

/**
 * What `npm run studio` runs, started directly (npm would not pass a SIGTERM on), on a free port.
 * `env` decides the database, as it does for a user: DATABASE_URL, or the embedded default.
 */
export async function startStudio(env: NodeJS.ProcessEnv): Promise<RunningStudio> {
  const port = await freePort();
  const studio: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/studio.ts', '--port', String(port)],
    { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  for (const stream of [studio.stdout!, studio.stderr!])
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const url = await eventually(
    async () => {
      if (studio.exitCode !== null) throw new Error(`studio exited early:\n${lines.join('\n')}`);
      return lines.map((line) => /is running at (http\S+)/.exec(line)?.[1]).find(Boolean);
    },
    'studio to start',
    60_000,
  );
  return {
    url,
    stop: async () => {
      if (studio.exitCode !== null) return;
      const exited = new Promise((resolve) => studio.once('exit', resolve));
      studio.kill('SIGTERM');
      setTimeout(() => studio.kill('SIGKILL'), 5_000).unref();
      await exited;
    },
  };
}

export interface StudioPageReport {
  /** Requests to any other origin than Studio's own. */
  foreign: string[];
  /** Uncaught errors on the page. */
  pageErrors: string[];
  /** Studio's error panel, when it showed one (e.g. "Could not load schema metadata"). */
  errorPanel?: string;
}

/**
 * Opens Studio as a person would on its first load, opens `objects`, waits for every id, and
 * keeps a screenshot under `screenshotName`.
 */
export async function viewObjectsInStudio(
  browser: Browser,
  url: string,
  ids: number[],
  screenshotName: string,
): Promise<StudioPageReport> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const report: StudioPageReport = { foreign: [], pageErrors: [] };
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== new URL(url).origin && !request.url().startsWith('data:'))
      report.foreign.push(request.url());
  });
  page.on('pageerror', (error) => report.pageErrors.push(error.message));
  try {
    await page.goto(url);
    await page.getByText('objects', { exact: true }).click();
    await page.getByText('last_seen', { exact: true }).waitFor();
    for (const id of ids) await page.getByText(String(id), { exact: true }).waitFor();
  } finally {
    const panel = page.getByText(/could not load|does not exist/i);
    if ((await panel.count()) > 0) report.errorPanel = await panel.first().innerText();
    await saveScreenshot(page, screenshotName);
    await page.close();
  }
  return report;
}
