import type { WorkflowState } from '../models';

/** What a decision refused because of the rollout's state is told: where the rollout really is now. */
export type Whereabouts = Pick<WorkflowState, 'workflow_id' | 'status' | 'current_step' | 'approved' | 'approved_by' | 'rejected_by'> & {
  /** Who asked to abort, while the rollout is still winding down. */
  aborting_by?: string | null;
};

/**
 * The message of a 409. A decision taken a moment ago has not moved the status yet (an approve leaves
 * the rollout `awaiting_approval` until the workflow's main line runs), so "is awaiting_approval, not
 * awaiting approval" would contradict itself: the decision already taken is named first.
 */
export function describeRefusal(s: Whereabouts, wanted: string): string {
  return `Rollout ${s.workflow_id} ${whereItIs(s)}, not ${wanted}`;
}

function whereItIs(s: Whereabouts): string {
  const at = `${s.status} (${s.current_step})`;
  if (s.aborting_by) return `is being aborted by ${s.aborting_by} (${at})`;
  if (s.status === 'awaiting_approval' && s.approved === true) return `was already approved by ${s.approved_by ?? 'anonymous'} and is about to roll out`;
  if (s.status === 'awaiting_approval' && s.approved === false) return `was already rejected by ${s.rejected_by ?? 'anonymous'} and is about to end`;
  return `is ${at}`;
}
