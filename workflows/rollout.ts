import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  currentUpdateInfo,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ActivityCancellationType, type SignalDefinition, type UpdateDefinition } from '@temporalio/common';
import type { ReplicaTarget, RolloutActivities, StageMeasurement } from '../activities';
import type {
  AbortPayload,
  AuditEntry,
  Channel,
  RolloutRequest,
  ViaChannel,
  WorkflowState,
  WorkflowStatus,
} from '../models';
import { checkDecisionPayload, DECISION_FIELDS, isPastDeadline, type CheckedDecision, type DecisionKind } from '../core/decisionPayload';
import { describeRefusal } from '../core/rolloutWhereabouts';
import { closeOpenStages } from '../core/stageRecords';
import { configAt, restoreGroups, type ConfigRun, type FleetRef } from '../core/fleet';
import { leaseSecondsFor, MAX_LEASE_SECONDS } from '../core/replicaLease';
import { mixedConfigProblem } from '../core/uniformConfig';
import { withDefaults } from '../core/healthScore';
import { budgetedSamplingIntervalSeconds, decideSample } from '../core/monitoring';
import { canonicalDeploymentKey } from '../core/targetAddress';
import { describeImprovement, initialState, startedStage } from '../core/rolloutState';
import { planStages, type PlannedStage } from '../core/stagePlan';
import { monitoringTicks, nextAfterStage, samplingIntervalSeconds } from '../core/transitions';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  getStateQuery,
  promoteSignal,
  promoteUpdate,
  rejectSignal,
  rejectUpdate,
} from './definitions';
import { cancelOnRequest } from './cancelOnRequest';
import {
  DEADLINE_PASSED_ERROR,
  DECISION_STATES,
  DEPLOYMENT_GUARD_ID_PREFIX,
  DEPLOYMENT_KEY,
  ENGINE_KEY,
  INVALID_DECISION_ERROR,
  isTerminalStatus,
  NON_RETRYABLE_TYPES,
  REST_UPDATE_ID_PREFIX,
  STAGE_KEY,
  STATUS_KEY,
  WRONG_STATE_ERROR,
} from '../contract';

export interface RolloutWorkflowInput extends RolloutRequest {
  started_by?: string;
  started_via?: Channel;
}

/** Reads: cheap and idempotent, so retried quickly a few times before the rollout gives up. */
const reads = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/** Config pushes restart engines: long, heartbeating, idempotent by revision so a retry cannot apply twice. */
const pushes = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/**
 * The same pushes, but a cancelled push (an abort, a cancelled rollout) is waited for until the activity
 * has stopped: the rollback that follows must not run while pushes of the new config still do.
 */
const awaitedPushes = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/**
 * Behaviour added after the first release, each behind a patch so that histories recorded before it
 * replay the old commands. Asked once, at the start, so a run keeps one behaviour from start to end.
 */
function safetyPatches() {
  return {
    /** An accepted abort is checked before every push and after every sample, and never ends `completed`. */
    abortCheckpoints: patched('abort-checkpoints'),
    /** Pushes run in a scope an abort cancels; compensations run non-cancellable on every path. */
    cancellablePushes: patched('cancellable-pushes'),
    /** The monitoring ticks of a whole rollout are capped (see core/monitoring.ts). */
    boundedMonitoring: patched('bounded-monitoring-ticks'),
  };
}

/** The baseline window before any change; short, since the monitoring windows carry the real evidence. */
const MAX_BASELINE_SECONDS = 5;

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<WorkflowState> {
  const patches = safetyPatches();
  const state = initialState(workflowInfo().workflowId, input, nowIso());
  const slo = withDefaults(input.slo);
  /** Replicas this rollout changed, with the config each had before: the compensation's to-do list. */
  const changed = new Map<string, ReplicaTarget>();
  let abortRequest: AbortPayload | null = null;
  /** How activities find the replicas again; set once they are discovered. */
  let fleet: FleetRef = { instance_id: input.instance_id, count: 0, digest: '' };
  let promotions = 0;
  /** How long each push claims its replica for this rollout (docs/replica-leases.md). */
  const leaseSeconds = leaseSecondsFor(input, MAX_LEASE_SECONDS);

  setHandler(getStateQuery, () => state);

  // Decisions are checked against the REST bodies' limits, and their channel comes from how they
  // arrived (signal or update) instead of a payload field. Rollouts begun before that keep the old
  // handling when replayed: a signal the new check ignores would change what they did.
  const checkedDecisions = patched('decision-payload-checked-channel-from-transport');

  // Each decision has a signal (operators' `temporal workflow signal`: ignored when it does not fit)
  // and an update (the gateway's: refused when it does not fit, answered with the state it led to).
  const awaitingDecision = () => state.status === 'awaiting_approval' && state.approved === null;
  const awaitingPromotion = () => state.current_step === 'await_promotion' && !abortRequest;
  const inProgress = () => !isTerminalStatus(state.status);

  function approve(d: CheckedDecision, channel: Channel): void {
    audit('approve', d.actor, channel, d.note);
    patchState({ approved: true, approved_by: d.actor, approval_comment: d.note });
  }
  function reject(d: CheckedDecision, channel: Channel): void {
    audit('reject', d.actor, channel, d.note);
    patchState({ approved: false, rejected_by: d.actor, rejection_reason: d.note });
  }
  function promote(d: CheckedDecision, channel: Channel): void {
    audit('promote', d.actor, channel);
    promotions++;
  }
  function abort(d: CheckedDecision, channel: Channel): void {
    if (abortRequest || !inProgress()) return;
    abortRequest = { aborted_by: d.actor, reason: d.note ?? undefined };
    audit('abort', abortRequest.aborted_by, channel, d.note);
  }

  decisionSignal(approveSignal, 'approve', approve, awaitingDecision);
  decisionSignal(rejectSignal, 'reject', reject, awaitingDecision);
  decisionSignal(promoteSignal, 'promote', promote, () => true);
  decisionSignal(abortSignal, 'abort', abort, () => true);

  // The decision updates answer once the rollout has acted on them (left the approval or promotion
  // wait), so a read right after the answer shows where the rollout went. An abort takes effect at the
  // rollout's next step, and answers once the rollout has stopped going forward (it is rolling back or
  // has ended); before the abort checkpoints it answered at once.
  decisionUpdate(approveUpdate, 'approve', approve, awaitingDecision, DECISION_STATES.approve.wanted, () => state.status !== 'awaiting_approval');
  decisionUpdate(rejectUpdate, 'reject', reject, awaitingDecision, DECISION_STATES.reject.wanted, () => state.status !== 'awaiting_approval');
  decisionUpdate(promoteUpdate, 'promote', promote, awaitingPromotion, DECISION_STATES.promote.wanted, () => state.current_step !== 'await_promotion');
  const abortActedOn = () => !patches.abortCheckpoints || state.current_step === 'rollback' || !inProgress();
  decisionUpdate(abortUpdate, 'abort', abort, inProgress, DECISION_STATES.abort.wanted, abortActedOn);

  /** A signal is fire and forget: one that does not fit (shape, deadline, state) is ignored and logged. */
  function decisionSignal(def: SignalDefinition<[unknown?]>, kind: DecisionKind, decide: (d: CheckedDecision, channel: Channel) => void, fits: () => boolean): void {
    setHandler(def, (p?: unknown) => {
      if (!checkedDecisions) {
        if (fits()) decide(legacyDecision(kind, p), legacyChannel(p));
        return;
      }
      const check = checkDecisionPayload(kind, p);
      if (!check.ok) return log.warn('decision signal ignored: payload does not fit', { signal: kind, problems: check.problems });
      if (isPastDeadline(check.decision, Date.now())) return log.warn('decision signal ignored: its valid_until has passed', { signal: kind });
      if (fits()) decide(check.decision, 'temporal');
    });
  }

  function decisionUpdate<P>(
    def: UpdateDefinition<WorkflowState, [P]>,
    kind: DecisionKind,
    decide: (d: CheckedDecision, channel: Channel) => void,
    fits: () => boolean,
    wanted: string,
    actedOn: () => boolean,
  ): void {
    setHandler(
      def,
      async (p: P) => {
        // The validator has checked the payload; a history from before the check replays the old way.
        const check = checkDecisionPayload(kind, p);
        decide(check.ok ? check.decision : legacyDecision(kind, p), checkedDecisions ? updateChannel() : legacyChannel(p));
        await condition(actedOn);
        return state;
      },
      {
        // Validators do not run on replay, so what they refuse never reaches a history: no patch needed.
        validator: (p: P) => {
          const check = checkDecisionPayload(kind, p);
          if (!check.ok) {
            throw ApplicationFailure.create({ type: INVALID_DECISION_ERROR, message: `Invalid ${kind}: ${check.problems.join('; ')}`, details: check.problems, nonRetryable: true });
          }
          // Workflow time is the time this workflow task started: a decision no worker took before its
          // deadline (the gateway answered 503) is refused now instead of taking effect late.
          if (isPastDeadline(check.decision, Date.now())) {
            throw ApplicationFailure.create({
              type: DEADLINE_PASSED_ERROR,
              message: `The ${kind} was valid until ${new Date(check.decision.validUntil!).toISOString()} and reached a worker at ${nowIso()}; it was not applied`,
              nonRetryable: true,
            });
          }
          requireState(fits(), wanted);
        },
      },
    );
  }

  function requireState(ok: boolean, wanted: string): void {
    if (ok) return;
    throw ApplicationFailure.create({
      type: WRONG_STATE_ERROR,
      message: describeRefusal({ ...state, aborting_by: abortRequest?.aborted_by ?? null }, wanted),
      details: [wanted, state.status, state.current_step],
      nonRetryable: true,
    });
  }

  function audit(action: AuditEntry['action'], by: string, channel: Channel | undefined, detail?: string | null): void {
    state.audit.push({ action, actor: by, channel: channel ?? 'temporal', at: nowIso(), detail: detail ?? null });
  }
  // The gateway's rollouts are started by a deployment guard; anything else came straight through Temporal.
  const startedVia: Channel | undefined = checkedDecisions ? (workflowInfo().parent?.workflowId.startsWith(DEPLOYMENT_GUARD_ID_PREFIX) ? 'rest' : 'temporal') : input.started_via;
  audit('start', actor(input.started_by), startedVia);

  let indexed = { status: '', stage: '' };
  function patchState(patch: Partial<WorkflowState>): void {
    Object.assign(state, patch, { updated_at: nowIso() });
    const now = { status: state.status, stage: state.current_stage ?? 'none' };
    // Upsert only on change: each upsert is a history event, and most patches touch neither field.
    if (now.status !== indexed.status || now.stage !== indexed.stage) {
      upsertSearchAttributes([
        { key: STATUS_KEY, value: now.status },
        { key: STAGE_KEY, value: now.stage },
      ]);
      indexed = now;
    }
  }

  function finish(status: WorkflowStatus, patch: Partial<WorkflowState> = {}): WorkflowState {
    // State only, no command: finished rollouts show no stage `in_progress`.
    closeOpenStages(state.rollout_history, nowIso(), patch.error_message ?? `rollout ${status}`);
    patchState({ status, current_step: 'complete', ...patch });
    return state;
  }

  const abortMessage = () => `Aborted by ${abortRequest?.aborted_by}${abortRequest?.reason ? `: ${abortRequest.reason}` : ''}`;

  async function rollback(reason: string): Promise<WorkflowState> {
    patchState({ current_step: 'rollback' });
    const targets = [...changed.values()];
    try {
      if (targets.length > 0) {
        const restore = () => pushes.rollbackReplicas({ groups: restoreGroups(targets), lease_seconds: leaseSeconds });
        // A compensation must finish whatever else is cancelled meanwhile.
        await (patches.cancellablePushes ? CancellationScope.nonCancellable(restore) : restore());
      }
    } catch (err) {
      return finish('failed', { error_message: `${reason}; rollback incomplete: ${failureMessage(err)}` });
    }
    return finish('rolled_back', { error_message: `${reason}, rolled back changes` });
  }

  /** What an abort that stops the rollout before the next push leads to. */
  async function stopForAbort(): Promise<WorkflowState> {
    // Nothing changed yet: the rollout ends as an abort before any change always did.
    if (changed.size === 0) return finish('rejected', { error_message: abortMessage() });
    return rollback(abortMessage());
  }

  upsertSearchAttributes([
    // One value per deployment however it was spelled, so a search by deployment finds all its rollouts.
    { key: DEPLOYMENT_KEY, value: patched('canonical-deployment-key') ? canonicalDeploymentKey(input.instance_id) : input.instance_id },
    { key: ENGINE_KEY, value: input.instance_type },
  ]);

  try {
    // collect_metrics: who the replicas are, what they run, and how they perform now.
    patchState({ status: 'running', current_step: 'collect_metrics' });
    const discovered = await reads.discoverReplicas({ instance_id: input.instance_id, replicas: input.replicas });
    const replicas = discovered.replicas;
    fleet = { instance_id: input.instance_id, replicas: input.replicas, count: replicas.length, digest: discovered.digest };
    const configs = await reads.readReplicaConfigs({ fleet });
    patchState({ replicas });
    // Plans start from one config; a fleet left half-changed is refused before anything is pushed.
    const mixed = mixedConfigProblem(configs);
    if (mixed && patched('refuse-mixed-configs')) return finish('failed', { error_message: mixed });
    const everyReplica = { from: 0, to: replicas.length };
    const baselineStart = await reads.sampleFleet({ engine: input.instance_type, fleet, range: everyReplica, source: input.metrics_source });
    await condition(() => abortRequest !== null, toMs(Math.min(input.monitoring_duration_seconds, MAX_BASELINE_SECONDS)));
    if (abortRequest) return finish('rejected', { error_message: abortMessage() });
    const baselineEnd = await reads.sampleFleet({ engine: input.instance_type, fleet, range: everyReplica, source: input.metrics_source });

    patchState({ current_step: 'analyze_performance' });
    const analysis = await reads.analyzePerformance({ start: baselineStart, end: baselineEnd, slo });
    patchState({ analysis_result: analysis });

    patchState({ current_step: 'generate_optimizations' });
    const plan = await reads.generateOptimizations({
      engine: input.instance_type,
      analysis,
      currentArgs: configs[0].engine_args,
      revision: `servetune-${state.workflow_id}`,
    });
    patchState({ optimization_plan: plan });
    if (plan.optimizations.length === 0) {
      if (patches.abortCheckpoints && abortRequest) return finish('rejected', { error_message: abortMessage() });
      return finish('completed', {
        final_health_score: analysis.overall_health_score,
        total_improvement: 'No bottleneck the planner can address; nothing rolled out',
      });
    }

    if (input.requires_approval) {
      patchState({ status: 'awaiting_approval', current_step: 'await_approval' });
      const decided = await condition(
        () => state.approved !== null || abortRequest !== null,
        toMs(input.approval_timeout_seconds),
      );
      if (abortRequest) return finish('rejected', { error_message: abortMessage() });
      if (!decided) {
        return finish('rejected', {
          approved: false,
          error_message: `Approval timed out after ${input.approval_timeout_seconds}s`,
        });
      }
      if (state.approved === false) {
        return finish('rejected', { error_message: `Rejected by ${state.rejected_by}${state.rejection_reason ? `: ${state.rejection_reason}` : ''}` });
      }
    }

    const stages = planStages(input.stages, replicas);
    let scoreBefore = analysis.overall_health_score;
    for (const [index, stage] of stages.entries()) {
      // Checkpoint: an abort accepted during analysis, planning or the last sample stops before this push.
      if (patches.abortCheckpoints && abortRequest) return await stopForAbort();
      const outcome = await runStage(stage, scoreBefore, configs, stages.length);
      if (outcome.failure) return await rollback(outcome.failure);
      scoreBefore = outcome.score;
      const next = nextAfterStage({ gatePassed: true, isLastStage: index === stages.length - 1, autoRollout: input.auto_rollout });
      if (next === 'await_promotion') {
        patchState({ current_step: 'await_promotion' });
        const wanted = promotions + 1;
        const promoted = await condition(() => promotions >= wanted || abortRequest !== null, toMs(input.approval_timeout_seconds));
        if (abortRequest) return await rollback(abortMessage());
        if (!promoted) return await rollback(`No promotion within ${input.approval_timeout_seconds}s`);
      }
    }

    if (patches.abortCheckpoints && abortRequest) return await rollback(abortMessage());
    return finish('completed', {
      final_health_score: scoreBefore,
      total_improvement: describeImprovement(analysis.overall_health_score, scoreBefore, plan.estimated_total_improvement),
    });
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelling a rollout must not leave half the fleet on the new config.
      audit('cancel', 'temporal', 'temporal', 'workflow cancellation requested');
      await CancellationScope.nonCancellable(() => rollback('Rollout cancelled'));
      throw err;
    }
    const message = failureMessage(err);
    log.error('rollout step failed', { error: message, step: state.current_step });
    if (changed.size > 0) return await rollback(`${message}`);
    return finish('failed', { error_message: message });
  } finally {
    await releaseLeases();
  }

  /**
   * However the rollout ends (completed, rolled back, failed, cancelled), it lets go of the replicas
   * it changed, so the next rollout need not wait for the leases to expire. A terminated rollout runs
   * no code: its leases stay until they expire or an operator releases them (docs/replica-leases.md).
   */
  async function releaseLeases(): Promise<void> {
    if (changed.size === 0 || !patched('release-replica-leases')) return;
    try {
      await CancellationScope.nonCancellable(() => reads.releaseReplicas({ addresses: [...changed.keys()] }));
    } catch (err) {
      // The outcome stands; the leases lapse on their own.
      log.warn('releasing replica leases failed', { error: failureMessage(err) });
    }
  }

  /** rollout_stage → monitor_stage → health gate. Returns the stage's score, or why it failed. */
  async function runStage(
    stage: PlannedStage,
    before: number | null,
    configs: ConfigRun[],
    stageCount: number,
  ): Promise<{ score: number | null; failure?: string }> {
    const plan = state.optimization_plan!;
    const record = startedStage(stage, before, nowIso());
    state.rollout_history.push(record);
    patchState({ status: 'rolling_out', current_step: 'rollout_stage', current_stage: stage.label });

    for (let i = stage.addedRange.from; i < stage.addedRange.to; i++) {
      const previous = configAt(configs, i);
      // Recorded before the push: a push that half-happened must still be undone.
      changed.set(state.replicas[i], { address: state.replicas[i], revision: previous.revision, engine_args: previous.engine_args });
    }
    const apply = { fleet, range: stage.addedRange, revision: plan.revision, engine_args: plan.engine_args, lease_seconds: leaseSeconds };
    // An abort during the push cancels it (and waits until it stopped); the check below then rolls back.
    if (patches.cancellablePushes) await cancelOnRequest(() => abortRequest !== null, () => awaitedPushes.applyConfig(apply));
    else await pushes.applyConfig(apply);
    if (abortRequest) return endStage(record, null, abortMessage());

    patchState({ current_step: 'monitor_stage' });
    const window = state.monitoring_duration_seconds;
    // Stages move a prefix of the list, so the replicas still on the old config are the rest of it.
    const baseline = stage.range.to < fleet.count ? { from: stage.range.to, to: fleet.count } : null;
    const [canaryStart, baselineStart] = await Promise.all([
      reads.sampleFleet({ engine: state.instance_type, fleet, range: stage.range, source: input.metrics_source }),
      baseline ? reads.sampleFleet({ engine: state.instance_type, fleet, range: baseline, source: input.metrics_source }) : Promise.resolve(null),
    ]);
    let previous = { canary: canaryStart, baseline: baselineStart };
    let series: StageMeasurement['series'] = { canary: {}, baseline: {} };
    const interval = patches.boundedMonitoring ? budgetedSamplingIntervalSeconds(window, stageCount) : samplingIntervalSeconds(window);
    const ticks = monitoringTicks(window, interval);
    let elapsed = 0;
    let consecutiveFailures = 0;
    let after: number | null = null;
    for (const [i, tick] of ticks.entries()) {
      await condition(() => abortRequest !== null, toMs(tick - elapsed));
      elapsed = tick;
      if (abortRequest) return endStage(record, after, abortMessage());
      const m = await reads.measureStage({
        engine: state.instance_type,
        source: input.metrics_source,
        slo,
        fleet,
        canary: stage.range,
        baseline,
        windowStart: canaryStart,
        previous,
        series,
      });
      previous = m.samples;
      series = m.series;
      after = m.health.score;
      record.samples.push({ at: nowIso(), health_score: after });
      record.canary_judgement = m.judgement;
      patchState({ rollout_history: state.rollout_history });
      // Checkpoint: an abort that landed during this sample (the last one too) fails the stage.
      if (patches.abortCheckpoints && abortRequest) return endStage(record, after, abortMessage());
      const decision = decideSample({
        before,
        after,
        threshold: state.health_threshold,
        judgement: m.judgement,
        consecutiveFailures,
        isFinalSample: i === ticks.length - 1,
      });
      consecutiveFailures = decision.consecutiveFailures;
      if (decision.outcome === 'fail') return endStage(record, after, decision.reason);
      if (decision.outcome === 'pass') {
        endStage(record, after, null, decision.reason);
        return { score: after };
      }
    }
    return endStage(record, after, 'Monitoring window produced no samples');
  }

  function endStage(record: WorkflowState['rollout_history'][number], after: number | null, failure: string | null, decision?: string) {
    record.status = failure ? 'failed' : 'success';
    record.completed_at = nowIso();
    record.health_score_after = after;
    record.decision = failure ?? decision ?? null;
    patchState({ rollout_history: state.rollout_history });
    return { score: after, failure: failure ?? undefined };
  }
}

function nowIso(): string {
  // Date.now() inside a workflow is the deterministic workflow clock (replay-safe).
  return new Date(Date.now()).toISOString();
}

function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

/** Signals from the CLI may carry any JSON; a missing or blank name is recorded as anonymous. */
function actor(name: unknown): string {
  return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 200) : 'anonymous';
}

/** A decision as rollouts begun before the payload check read it (their histories replay this way). */
function legacyDecision(kind: DecisionKind, p: unknown): CheckedDecision {
  const fields = (p ?? {}) as Record<string, unknown>;
  const note = DECISION_FIELDS[kind].note;
  return { actor: actor(fields[DECISION_FIELDS[kind].actor]), note: note ? ((fields[note] as string | undefined) ?? null) : null, validUntil: null };
}

/** The channel as rollouts begun before the check recorded it: from the payload. */
function legacyChannel(p: unknown): Channel {
  return ((p ?? {}) as ViaChannel).channel ?? 'temporal';
}

/** How the running update arrived: the gateway's update IDs carry its prefix. */
function updateChannel(): Channel {
  return currentUpdateInfo()?.id.startsWith(REST_UPDATE_ID_PREFIX) ? 'rest' : 'temporal';
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return failureMessage(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return (err as Error)?.message ?? String(err);
}
