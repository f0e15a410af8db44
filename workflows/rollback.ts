import { CancellationScope, log, patched } from '@temporalio/workflow';
import type { WorkflowState } from '../models';
import { restoreGroups } from '../core/fleetRef';
import { summaries } from '../core/stepSummaries';
import { pushes, releases } from './activityProxies';
import { failureMessage, type RolloutRun } from './rolloutRun';

/** Puts every replica the rollout changed back on the config it had before, and ends the rollout. */
export async function rollback(run: RolloutRun, reason: string): Promise<WorkflowState> {
  run.patchState({ current_step: 'rollback' });
  const targets = [...run.changed.values()];
  try {
    if (targets.length > 0) {
      const restore = () =>
        pushes.rollbackReplicas.executeWithOptions({ summary: summaries.rollback(targets.length) }, [
          { groups: restoreGroups(targets), lease_seconds: run.leaseSeconds },
        ]);
      // A compensation must finish whatever else is cancelled meanwhile.
      await (run.patches.cancellablePushes ? CancellationScope.nonCancellable(restore) : restore());
    }
  } catch (err) {
    return run.finish('failed', { error_message: `${reason}; rollback incomplete: ${failureMessage(err)}` });
  }
  return run.finish('rolled_back', { error_message: `${reason}, rolled back changes` });
}

/** What an abort that stops the rollout before the next push leads to. */
export async function stopForAbort(run: RolloutRun): Promise<WorkflowState> {
  // Nothing changed yet: the rollout ends as an abort before any change always did.
  if (run.changed.size === 0) return run.finish('rejected', { error_message: run.abortMessage() });
  return rollback(run, run.abortMessage());
}

/**
 * However the rollout ends (completed, rolled back, failed, cancelled), it lets go of the replicas
 * it changed, so the next rollout need not wait for the leases to expire. A terminated rollout runs
 * no code: its leases stay until they expire or an operator releases them (docs/replica-leases.md).
 */
export async function releaseLeases(run: RolloutRun): Promise<void> {
  if (run.changed.size === 0 || !patched('release-replica-leases')) return;
  try {
    const addresses = [...run.changed.keys()];
    const summary = summaries.releaseLeases(addresses.length);
    await CancellationScope.nonCancellable(() => releases.releaseReplicas.executeWithOptions({ summary }, [{ addresses }]));
  } catch (err) {
    // The outcome stands; the leases lapse on their own.
    log.warn('releasing replica leases failed', { error: failureMessage(err) });
  }
}
