import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, Runtime, type WorkerOptions } from '@temporalio/worker';

const workflowsPath = require.resolve('../workflows');
// Written by `npm run build`, sparing each worker start seconds of webpack. The same file from
// dist/worker and from src/worker, so a worker run from the sources (the tests) uses it too.
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', '..', 'dist', 'workflow-bundle.js');

/** The workflow code a process's Temporal workers share: the build's bundle while it is current, else one made now. */
export async function workflowCode(): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  if (isBuiltBundleCurrent()) return { workflowBundle: { codePath: PREBUILT_BUNDLE_PATH } };
  return { workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: Runtime.instance().logger }) };
}

export async function writeWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  await writeFile(PREBUILT_BUNDLE_PATH, code);
}

/** A workflow source edited since the build would otherwise run as its old code. */
function isBuiltBundleCurrent(): boolean {
  if (!existsSync(PREBUILT_BUNDLE_PATH)) return false;
  const builtAtMs = statSync(PREBUILT_BUNDLE_PATH).mtimeMs;
  const workflowsDir = path.dirname(workflowsPath);
  return readdirSync(workflowsDir).every((name) => statSync(path.join(workflowsDir, name)).mtimeMs <= builtAtMs);
}
