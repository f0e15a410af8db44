import type { AwaitingApproval, DecisionLogEntry, LoadMeasurement, StopReason, TuningBudget, TuningVerdict, WorkflowState } from '../models';

/**
 * What a tuning iteration's rollout came to, read from its own terminal state: `completed` kept the
 * change (with `require_improvement`, only when it measurably helped), `rolled_back` restored every
 * changed replica. The tuning run never judges the improvement itself.
 */
export function verdictOf(rollout: WorkflowState): TuningVerdict {
  if (rollout.status === 'completed') return (rollout.optimization_plan?.optimizations.length ?? 0) === 0 ? 'no_change' : 'kept';
  // Rolled back before any health sample: the push itself failed (an engine refused the args).
  if (rollout.status === 'rolled_back') return rollout.rollout_history.some((s) => s.samples.length > 0) ? 'reverted' : 'refused';
  if (rollout.status === 'rejected') return 'rejected';
  return 'failed';
}

/**
 * How an iteration's rollout that ended `rejected` got there (nothing was pushed either way): no one
 * answered its approval in time (`approval_timeout`: the rollout's timeout sets `approved: false` and
 * names no one), or a human rejected or aborted it (`rejected`). Null for any other end.
 */
export function unapprovedEnd(rollout: WorkflowState): 'rejected' | 'approval_timeout' | null {
  if (rollout.status !== 'rejected') return null;
  return rollout.approved === false && rollout.rejected_by === null ? 'approval_timeout' : 'rejected';
}

/** The health the fleet (kept) or the changed replicas (otherwise) showed at the rollout's last measured stage. */
export function scoreAfter(rollout: WorkflowState): number | null {
  if (rollout.status === 'completed' && rollout.final_health_score !== null) return rollout.final_health_score;
  const measured = rollout.rollout_history.filter((s) => s.health_score_after !== null);
  return measured.length > 0 ? measured[measured.length - 1].health_score_after : null;
}

/** The changed replicas' load and health at the rollout's last stage that measured its load, or null when none did (a refused push). */
export function lastMeasuredLoad(rollout: WorkflowState): { load: LoadMeasurement; health: number | null } | null {
  const measured = rollout.rollout_history.filter((s) => s.load);
  const last = measured[measured.length - 1];
  return last?.load ? { load: last.load, health: last.health_score_after } : null;
}

/** Engine restarts a rollout cost: each replica it pushed to, and again each one a rollback put back. */
export function restartsOf(rollout: WorkflowState): number {
  const pushed = new Set(rollout.rollout_history.flatMap((s) => s.replicas)).size;
  return rollout.status === 'rolled_back' ? 2 * pushed : pushed;
}

/** Verdicts whose configuration is remembered as a constraint: never to be tried again, by this run or a later one. */
export function isConstraint(verdict: TuningVerdict): boolean {
  return verdict === 'reverted' || verdict === 'refused' || verdict === 'rejected';
}

export interface Progress {
  score: number | null;
  target: number;
  iterations: number;
  restarts: number;
  elapsedSeconds: number;
  budget: TuningBudget;
  stopRequested: boolean;
  lastVerdict: TuningVerdict | null;
}

/** Why the run ends now, or null to go on with another iteration. The first reason that holds wins. */
export function stopReason(p: Progress): StopReason | null {
  if (p.score !== null && p.score >= p.target) return 'slo_met';
  if (p.stopRequested) return 'stopped';
  if (p.lastVerdict === 'failed') return 'rollout_failed';
  if (p.iterations >= p.budget.max_iterations) return 'budget_iterations';
  if (p.restarts >= p.budget.max_restarts) return 'budget_restarts';
  if (p.elapsedSeconds >= p.budget.max_wall_seconds) return 'budget_wall_time';
  return null;
}

/** One line for the Web UI and the CLI: an iteration's change, verdict and scores. */
export function describeEntry(e: DecisionLogEntry): string {
  const changes = e.changes.map((c) => `${c.flag} ${String(c.from)}→${String(c.to)}`).join(', ');
  const score = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  return `#${e.iteration} ${e.source}: ${changes || 'no change'} → ${e.verdict} (${score(e.score_before)} → ${score(e.score_after)})`;
}

/**
 * For the Web UI and the CLI: which rollout waits for an approve, until when, and how to answer it
 * (the rollout's own decision, so the step answered is the one reviewed: docs/tuning.md#approvals).
 */
export function describeAwaitingApproval(a: AwaitingApproval): string {
  const until = a.until ? ` until ${a.until}` : '';
  return (
    `awaiting approval: iteration ${a.iteration}, rollout ${a.rollout_id}${until}; approve or reject that rollout: ` +
    `npx servetune approve|reject ${a.rollout_id}, POST /api/v1/workflows/${a.rollout_id}/approve|reject, ` +
    `or temporal workflow update execute --workflow-id ${a.rollout_id} --name approve|reject`
  );
}
