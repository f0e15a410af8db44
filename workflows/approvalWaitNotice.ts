import { getExternalWorkflowHandle, log, patched, workflowInfo } from '@temporalio/workflow';
import { TUNING_ID_PREFIX } from '../contract';
import { approvalWaitSignal, type ApprovalWaitNotice } from './tuningDefinitions';

/**
 * A tuning run's iteration rollout tells the run when it begins and stops waiting for an approve, so
 * the run's state (REST, CLI, its Web UI details, the `getTuningState` query) can name the rollout an
 * operator must answer while, and only while, it waits. Any other rollout tells no one. Rollouts begun
 * before this build sent nothing: the patch keeps their histories replaying.
 */
export function approvalWaitNotifier(rolloutId: string): (notice: Omit<ApprovalWaitNotice, 'rollout_id'>) => void {
  const parent = workflowInfo().parent;
  if (!parent?.workflowId.startsWith(TUNING_ID_PREFIX) || !patched('tell-tuning-run-approval-wait')) return () => {};
  const run = getExternalWorkflowHandle(parent.workflowId, parent.runId);
  // Not awaited: the approval wait must not depend on the run taking the notice (a closed run cancels this rollout anyway).
  return (notice) =>
    void run.signal(approvalWaitSignal, { rollout_id: rolloutId, ...notice }).catch((err: unknown) => {
      log.warn('tuning run not told of the approval wait', { error: String(err) });
    });
}
