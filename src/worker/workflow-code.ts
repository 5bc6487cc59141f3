import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';

const workflowsPath = require.resolve('../workflows');
// Written by `npm run build`, sparing each worker start seconds of webpack; absent beside the sources.
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', 'workflow-bundle.js');

export function workflowCode(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  return existsSync(PREBUILT_BUNDLE_PATH) ? { workflowBundle: { codePath: PREBUILT_BUNDLE_PATH } } : { workflowsPath };
}

export async function writeWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  await writeFile(PREBUILT_BUNDLE_PATH, code);
}
