import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AnalysisResult, DecisionLogEntry, EngineArgs, StopReason, StopTuningPayload, TuningState, TuningVerdict, WorkflowState } from '../models';
import { withDefaults } from '../core/healthScore';
import { rolloutStaticDetails, rolloutStaticSummary } from '../core/rolloutStory';
import { capacityStep, verdictAfterCorner, type CapacityStep } from '../core/tuningCapacity';
import { initialTuningState, iterationRequest } from '../core/tuningRun';
import { describeAwaitingApproval, describeEntry, isConstraint, iterationsWithoutGain, restartsOf, scoreAfter, stopReason, unapprovedEnd, verdictOf, type Progress } from '../core/tuningProgress';
import { applyChanges, nextCandidate, type Candidate } from '../core/tuningSearch';
import { DEPLOYMENT_KEY, ENGINE_KEY, rolloutId, STAGE_KEY, STATUS_KEY, WRONG_STATE_ERROR } from '../contract';
import { rolloutWorkflow } from './rollout';
import { actor, failureMessage, nowIso } from './rolloutRun';
import { approvalWaitSignal, getTuningStateQuery, stopTuningSignal, stopTuningUpdate, type TuningWorkflowInput } from './tuningDefinitions';
import { probeFleet } from './tuningProbe';

export type { TuningWorkflowInput } from './tuningDefinitions';

/** Runs from before the capacity verdict never try the corner: their histories replay as they were. */
const CAPACITY_VERDICT_PATCH = 'tuning-capacity-verdict';

/**
 * A tuning run: one iteration per workflow run, then continue-as-new with the run's state (its
 * decision log and constraints) as input, so the history stays one iteration long however long the
 * run goes. Each iteration: probe the fleet → stop if the SLO is met or a budget is spent → pick the
 * next step (core/tuningSearch.ts) → run it as a child rollout with an explicit plan → record what
 * the rollout's own terminal status says (completed = kept, rolled_back = reverted, every changed
 * replica restored). The deployment stays claimed throughout: the run is the child of the
 * deployment's guard, which lives until the run's last continue-as-new ends.
 */
export async function tuningWorkflow(input: TuningWorkflowInput): Promise<TuningState> {
  const req = input.request;
  const state: TuningState = input.carried ?? {
    ...initialTuningState(workflowInfo().workflowId, req, input.started_by, nowIso()),
    constraints: input.known_constraints,
  };
  // A run carried over from a build before approval waits were shown has no such field yet.
  state.awaiting_approval ??= null;
  setHandler(getTuningStateQuery, () => state);
  setHandler(approvalWaitSignal, (notice) => {
    // Only the current iteration's rollout; a late notice from an earlier one is stale.
    if (notice.rollout_id !== state.current_rollout_id) return;
    state.awaiting_approval = notice.awaiting ? { iteration: state.iterations + 1, rollout_id: notice.rollout_id, since: nowIso(), until: notice.until ?? null } : null;
    touch(state);
  });
  const requestStop = (payload: StopTuningPayload | undefined) => {
    state.stop_requested_by = actor(payload?.stopped_by);
    touch(state);
  };
  setHandler(stopTuningSignal, (payload) => {
    if (state.status === 'running' || state.status === 'pending') requestStop(payload);
  });
  setHandler(
    stopTuningUpdate,
    (payload: StopTuningPayload) => {
      requestStop(payload);
      return state;
    },
    {
      validator: (_payload: StopTuningPayload) => {
      if (state.status !== 'running' && state.status !== 'pending') {
          throw ApplicationFailure.create({ type: WRONG_STATE_ERROR, message: `Tuning run is ${state.status}, not running`, nonRetryable: true });
        }
      },
    },
  );
  state.status = 'running';
  index(input, state);

  try {
    const ended = await iterate(input, state);
    if (ended) return finish(state, ended);
  } catch (err) {
    state.error_message = failureMessage(err);
    return finish(state, 'rollout_failed', 'failed');
  }
  return await continueAsNew<typeof tuningWorkflow>({ ...input, carried: state });
}

/** One iteration; answers why the run ends, or null to continue as new. */
async function iterate(input: TuningWorkflowInput, state: TuningState): Promise<StopReason | null> {
  const req = input.request;
  const before = progress(state, null);
  const early = stopReason({ ...before, score: null });
  if (early) return early;

  const probe = await probeFleet(req);
  if ('problem' in probe) {
    state.error_message = probe.problem;
    return 'rollout_failed';
  }
  state.current_args = probe.args;
  state.current_score = probe.analysis.overall_health_score;
  state.initial_score ??= state.current_score;
  state.best_score = max(state.best_score, state.current_score);
  touch(state);
  // A stop asked for during the probe, or a fleet already at its SLO, ends the run before a change.
  const now = stopReason(progress(state, state.current_score));
  if (now) return now;

  const capacity = patched(CAPACITY_VERDICT_PATCH) ? checkCapacity(input, state, probe.analysis, probe.args) : null;
  if (capacity?.verdict) return capacityBound(state, capacity);
  const candidate =
    capacity?.candidate ??
    nextCandidate({
      engine: req.instance_type,
      currentArgs: probe.args,
      analysis: probe.analysis,
      log: state.decision_log,
      constraints: state.constraints,
    });
  if (!candidate) return 'search_exhausted';

  const iteration = state.iterations + 1;
  const childId = rolloutId(uuid4());
  state.current_rollout_id = childId;
  touch(state);
  const request = iterationRequest(req, iteration, candidate);
  const rollout = await executeChild(rolloutWorkflow, {
    workflowId: childId,
    // What the Web UI lists for the rollout: metadata of the start command, not compared on replay.
    staticSummary: rolloutStaticSummary(request),
    staticDetails: rolloutStaticDetails(request, `tuning run ${workflowInfo().workflowId} (for ${state.started_by})`),
    args: [request],
    // Closing the tuning run (cancel, terminate) must still let the rollout roll back.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    typedSearchAttributes: [
      { key: DEPLOYMENT_KEY, value: input.deployment_key },
      { key: ENGINE_KEY, value: req.instance_type },
      { key: STATUS_KEY, value: 'pending' },
      { key: STAGE_KEY, value: 'none' },
    ],
  });
  // A rejected (or aborted) step, or an approval no one answered, ends the run: see docs/tuning.md
  // (approvals). Runs begun before this build went on to their next iteration instead.
  const unapproved = unapprovedEnd(rollout);
  const endsRun = unapproved !== null && patched('tuning-run-ends-on-rejection');
  record(state, iteration, childId, candidate, rollout, endsRun && unapproved ? unapproved : verdictOf(rollout));
  if (endsRun && unapproved) return unapproved;
  const reason = stopReason(progress(state, state.decision_log[state.decision_log.length - 1].verdict === 'kept' ? scoreAfter(rollout) : null));
  if (capacity?.candidate && capacity.probeLoad && (reason === null || reason.startsWith('budget_'))) {
    // The corner's own window decides; whatever it changed and did not help, its rollout put back.
    const slo = withDefaults(req.slo);
    const cornerArgs = applyChanges(probe.args, candidate.changes);
    const verdict = verdictAfterCorner({ engine: req.instance_type, probeLoad: capacity.probeLoad, cornerArgs, rolloutId: childId, rollout, slo, target: state.target_health });
    if (verdict) return capacityBound(state, { ...capacity, verdict });
  }
  return reason;
}

/** Counts the probe towards saturation and answers the corner to try, or a verdict the probe proves alone. */
function checkCapacity(input: TuningWorkflowInput, state: TuningState, analysis: AnalysisResult, args: EngineArgs): CapacityStep {
  const step = capacityStep({
    engine: input.request.instance_type,
    currentArgs: args,
    analysis,
    log: state.decision_log,
    constraints: state.constraints,
    saturatedProbes: state.saturated_probes ?? 0,
    slo: withDefaults(input.request.slo),
    target: state.target_health,
  });
  state.saturated_probes = step.saturatedProbes;
  touch(state);
  return step;
}

function capacityBound(state: TuningState, step: CapacityStep): StopReason {
  state.capacity_verdict = step.verdict;
  touch(state);
  return 'capacity_bound';
}

function record(state: TuningState, iteration: number, childId: string, candidate: Candidate, rollout: WorkflowState, verdict: TuningVerdict): void {
  const entry: DecisionLogEntry = {
    iteration,
    rollout_id: childId,
    source: candidate.source,
    changes: candidate.changes,
    evidence: candidate.evidence,
    verdict,
    score_before: rollout.analysis_result?.overall_health_score ?? state.current_score,
    score_after: scoreAfter(rollout),
    restarts: restartsOf(rollout),
    message: rollout.status === 'completed' ? rollout.total_improvement : rollout.error_message,
    at: nowIso(),
  };
  state.decision_log.push(entry);
  state.iterations = iteration;
  state.restarts_spent += entry.restarts;
  state.current_rollout_id = null;
  state.awaiting_approval = null;
  if (isConstraint(verdict) && state.current_args) {
    state.constraints.push({ engine_args: applyChanges(state.current_args, candidate.changes), why: `${verdict} in ${childId}: ${entry.message ?? ''}`.slice(0, 500) });
  }
  if (verdict === 'kept') {
    state.current_args = rollout.optimization_plan?.engine_args ?? state.current_args;
    state.current_score = entry.score_after;
    state.best_score = max(state.best_score, entry.score_after);
  }
  if (verdict === 'failed') state.error_message = rollout.error_message;
  touch(state);
}

function progress(state: TuningState, score: number | null): Progress {
  const last = state.decision_log[state.decision_log.length - 1];
  return {
    score,
    target: state.target_health,
    iterations: state.iterations,
    restarts: state.restarts_spent,
    elapsedSeconds: (Date.now() - Date.parse(state.started_at)) / 1000,
    budget: state.budget,
    stopRequested: state.stop_requested_by !== null,
    lastVerdict: last?.verdict ?? null,
    iterationsWithoutGain: iterationsWithoutGain(state.decision_log),
    stopsWhenConverged: patched('tuning-stops-when-converged'),
  };
}

function finish(state: TuningState, reason: StopReason, status: TuningState['status'] = reason === 'rollout_failed' ? 'failed' : 'completed'): TuningState {
  state.stop_reason = reason;
  state.status = status;
  state.current_rollout_id = null;
  state.awaiting_approval = null;
  touch(state);
  upsertSearchAttributes([{ key: STATUS_KEY, value: status }]);
  return state;
}

function index(input: TuningWorkflowInput, state: TuningState): void {
  upsertSearchAttributes([
    { key: DEPLOYMENT_KEY, value: input.deployment_key },
    { key: ENGINE_KEY, value: input.request.instance_type },
    { key: STATUS_KEY, value: state.status },
  ]);
  details(state);
}

function touch(state: TuningState): void {
  state.updated_at = nowIso();
  details(state);
}

/** The Web UI's "current details": the run's goal, where it stands, and its decision log, one line per iteration. */
function details(state: TuningState): void {
  const score = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  const head = [
    `**Tuning ${state.instance_id}** (${state.instance_type}): ${state.status}${state.stop_reason ? `, ${state.stop_reason}` : ''}`,
    `health ${score(state.initial_score)} → ${score(state.current_score)} (best ${score(state.best_score)}, target ${state.target_health})`,
    `iterations ${state.iterations}/${state.budget.max_iterations}, restarts ${state.restarts_spent}/${state.budget.max_restarts}`,
    state.current_rollout_id ? `running rollout ${state.current_rollout_id}` : null,
    state.awaiting_approval ? `**${describeAwaitingApproval(state.awaiting_approval)}**` : null,
    state.stop_requested_by ? `stop requested by ${state.stop_requested_by}` : null,
    state.saturated_probes ? `saturated in the last ${state.saturated_probes} probe(s)` : null,
    state.capacity_verdict ? `**Capacity bound: ${state.capacity_verdict.replicas_needed} replicas needed** (${state.capacity_verdict.replicas} run). ${state.capacity_verdict.argument}` : null,
  ].filter((l): l is string => l !== null);
  setCurrentDetails([...head, '', ...state.decision_log.map((e) => `- ${describeEntry(e)}`)].join('\n'));
}

function max(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
