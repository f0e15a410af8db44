/**
 * Replays the recorded history of every scenario against today's workflow code. A change that
 * would make running rollouts non-deterministic fails here, before it reaches a worker.
 * Re-record after an intended, versioned change with `npm run record-histories`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

const dir = path.join(__dirname, '..', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('recorded histories exist for the seed scenarios', () => {
  expect(files).toEqual(
    expect.arrayContaining(['happy-path.json', 'approval-required.json', 'approval-rejected.json', 'rollback-at-10.json', 'rollback-at-50.json', 'complete-success.json']),
  );
});

test.each(files)('%s replays deterministically', async (file) => {
  const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, path.basename(file, '.json'));
});
