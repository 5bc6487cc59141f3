import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, Runtime, type WorkerOptions } from '@temporalio/worker';

const workflowsPath = require.resolve('../workflows');
// Written by `npm run build`, sparing each worker start seconds of webpack; absent beside the sources.
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', 'workflow-bundle.js');

/** The workflow code a process's Temporal workers share: the build's bundle, or one made now beside the sources. */
export async function workflowCode(): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  if (existsSync(PREBUILT_BUNDLE_PATH)) return { workflowBundle: { codePath: PREBUILT_BUNDLE_PATH } };
  return { workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: Runtime.instance().logger }) };
}

export async function writeWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  await writeFile(PREBUILT_BUNDLE_PATH, code);
}
