import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { AdmissionLimit } from '../../src/api/admission-limit';
import { objectWorkflowId } from '../../src/workflows';
import { startApiOnTemporal, type ApiOnTemporal } from '../support/api-on-temporal';

describe('turning callbacks away when too many ids are in flight, on a real Temporal server', () => {
  let system: ApiOnTemporal;

  before(async () => {
    system = await startApiOnTemporal('presence-admission', new AdmissionLimit({ initial: 3, min: 3, max: 3, fastMs: 450 }));
  });
  after(() => system?.stop());

  const workflowExists = async (objectId: number) => {
    try {
      await system.client.workflow.getHandle(objectWorkflowId(objectId)).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  };

  it('answers 503 overloaded at once, starts nothing for it, and takes the callback once room is free', async () => {
    const [first, second] = await Promise.all([system.postCallback([1, 2, 3]), system.postCallback([4, 5, 6])]);
    assert.equal(first.statusCode, 202);
    assert.equal(second.statusCode, 503);
    assert.equal(second.json().error, 'overloaded');
    assert.equal(second.headers['retry-after'], '1');
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5, 6].map(workflowExists)), [true, true, true, false, false, false]);

    assert.equal((await system.postCallback([4, 5, 6])).statusCode, 202);
    assert.equal(await workflowExists(4), true);
  });
});
