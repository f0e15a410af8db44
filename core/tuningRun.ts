import type { RolloutRequest, TuningRequest, TuningState } from '../models';
import type { Candidate } from './tuningSearch';

/** The state of a tuning run that has just been accepted. */
export function initialTuningState(tuningId: string, req: TuningRequest, startedBy: string, now: string): TuningState {
  return {
    tuning_id: tuningId,
    instance_id: req.instance_id,
    instance_type: req.instance_type,
    status: 'pending',
    stop_reason: null,
    stop_requested_by: null,
    target_health: req.target_health,
    approval: req.approval,
    budget: req.budget,
    started_by: startedBy,
    started_at: now,
    updated_at: now,
    iterations: 0,
    restarts_spent: 0,
    current_rollout_id: null,
    awaiting_approval: null,
    current_args: null,
    current_score: null,
    initial_score: null,
    best_score: null,
    constraints: [],
    decision_log: [],
    error_message: null,
    saturated_probes: 0,
    capacity_verdict: null,
  };
}

/** Whether iteration `n` (1-based) waits for a human approve. */
export function needsApproval(approval: TuningRequest['approval'], iteration: number): boolean {
  return approval === 'each' || (approval === 'first' && iteration === 1);
}

/** The rollout of one iteration: the run's rollout settings, its approval choice, and the candidate as an explicit plan. */
export function iterationRequest(req: TuningRequest, iteration: number, candidate: Candidate): RolloutRequest {
  const { target_health: _target, approval, budget: _budget, ...rollout } = req;
  // "Kept" must mean "measurably helped": the run's `require_improvement` (default true) goes to every rollout.
  return {
    ...rollout,
    requires_approval: needsApproval(approval, iteration),
    auto_rollout: true,
    plan_override: {
      engine_args: Object.fromEntries(candidate.changes.map((c) => [c.flag, c.to])),
      reason: `tuning iteration ${iteration}: ${candidate.evidence}`.slice(0, 1000),
    },
  };
}
