/**
 * Replays every recorded history of every released build (tests/histories/<version>/) against today's
 * workflow code. A change that would make a rollout started by an older release non-deterministic fails
 * here, before it reaches a worker. Rollouts are pinned to their build (docs/upgrading.md), but replay
 * compatibility still matters: rollouts started by an unversioned worker move to the first versioned build,
 * an operator can move a rollout to another build, and a worker may run with versioning off.
 * `npm run record-histories` adds the current package version's folder; old folders are never re-recorded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR, recordedHistories, VERSION_FOLDER } from '../helpers/histories';
import { workflowBundle } from '../helpers/temporal';

const histories = recordedHistories();

test('histories live in one folder per released version, none loose', () => {
  const entries = readdirSync(HISTORIES_DIR, { withFileTypes: true });
  expect(entries.filter((e) => !e.isDirectory()).map((e) => e.name)).toEqual([]);
  for (const e of entries) expect(e.name).toMatch(VERSION_FOLDER);
});

test('the first release (0.1.0) has the seed scenarios', () => {
  expect(histories.filter((h) => h.version === '0.1.0').map((h) => h.name)).toEqual(
    expect.arrayContaining(['happy-path', 'approval-required', 'approval-rejected', 'rollback-at-10', 'rollback-at-50', 'complete-success', 'deployment-guard']),
  );
});

test.each(histories.map((h) => [`${h.version}/${h.name}`, h] as const))('%s replays deterministically', async (_label, h) => {
  const history = JSON.parse(readFileSync(h.file, 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, `${h.version}/${h.name}`);
});
