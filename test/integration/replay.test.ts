import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';

const historiesDir = path.join(__dirname, '..', 'histories');

interface ExportedHistory {
  events: Array<{ workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }>;
}

/**
 * Replays histories exported from real runs (`npm run export-history`) against the current
 * workflow code: a change that would break running workflows fails here with a nondeterminism error.
 */
describe('replaying recorded workflow histories', () => {
  const files = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 5, `found ${files.length}`);
  });

  it('replays every history without nondeterminism', async () => {
    const histories = files.map((file) => ({
      workflowId: path.basename(file, '.json'),
      history: JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as ExportedHistory,
    }));
    const results = Worker.runReplayHistories({ workflowsPath: require.resolve('../../src/workflows') }, histories);
    const replayed: string[] = [];
    for await (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
      replayed.push(result.workflowId);
    }
    assert.deepEqual(replayed.sort(), histories.map(({ workflowId }) => workflowId).sort());
  });

  it('fails a history whose commands the workflow code no longer issues', async () => {
    const history = JSON.parse(readFileSync(path.join(historiesDir, 'object-online.json'), 'utf8')) as ExportedHistory;
    await assert.rejects(
      Worker.runReplayHistory({ workflowsPath: require.resolve('../support/changed-workflow') }, history),
      (error: Error) => error.name === 'DeterminismViolationError',
    );
  });
});
