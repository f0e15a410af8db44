import { setCurrentDetails } from '@temporalio/workflow';
import { rolloutCurrentDetails } from '../core/rolloutStory';
import type { WorkflowState } from '../models';

/** The monitoring window a rollout is in, keyed by its state document: when it ends. */
const windows = new WeakMap<WorkflowState, { stage: string | null; endsAt: string }>();

/**
 * Rewrites the rollout's current details, which the Web UI shows on the workflow page (docs/web-ui.md).
 * Called on every state change; it emits no command (the details answer the UI's metadata query), so
 * recorded histories replay unchanged.
 */
export function showRolloutDetails(state: WorkflowState): void {
  let window = windows.get(state) ?? null;
  if (state.current_step === 'monitor_stage' && window?.stage !== state.current_stage) {
    // Date.now() is the deterministic workflow clock: the window starts with the step.
    window = { stage: state.current_stage, endsAt: new Date(Date.now() + state.monitoring_duration_seconds * 1000).toISOString() };
    windows.set(state, window);
  }
  setCurrentDetails(rolloutCurrentDetails(state, { monitorEndsAt: state.current_step === 'monitor_stage' ? (window?.endsAt ?? null) : null }));
}
