import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { cleanupWorkflow } from '../../src/workflows';
import { WorkflowTestServer } from './support';

describe('cleanupWorkflow on a real Temporal server, cleanup stubbed', () => {
  let temporal: WorkflowTestServer;
  const calls: unknown[][] = [];
  const activities = {
    deleteStaleObjects(...args: unknown[]): Promise<number> {
      calls.push(args);
      return Promise.resolve(7);
    },
  };

  before(async () => {
    temporal = await WorkflowTestServer.start();
  });
  after(() => temporal?.stop());

  it('runs the cleanup activity once and returns how many objects it deleted', async () => {
    calls.length = 0;
    const deleted = await temporal.withWorker(activities, (taskQueue) =>
      temporal.client.workflow.execute(cleanupWorkflow, { workflowId: `cleanup-${randomUUID()}`, taskQueue }),
    );
    assert.equal(deleted, 7);
    // No TTL travels with the workflow: the activity uses its worker's setting.
    assert.deepEqual(calls, [[]]);
  });
});
