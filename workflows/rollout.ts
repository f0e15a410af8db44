import { CancellationScope, condition, isCancellation, log, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ConfigRun } from '../core/fleetRef';
import type { EngineSample } from '../metrics';
import type { AnalysisResult, Channel, OptimizationPlan, WorkflowState } from '../models';
import { canonicalDeploymentKey } from '../core/targetAddress';
import { mixedConfigProblem } from '../core/uniformConfig';
import { SPREAD_REPLICAS } from '../core/noiseMargin';
import { planFromOverride } from '../core/planOverride';
import { summaries } from '../core/stepSummaries';
import { DEPLOYMENT_GUARD_ID_PREFIX, DEPLOYMENT_KEY, ENGINE_KEY } from '../contract';
import { reads } from './activityProxies';
import { approvalWaitNotifier } from './approvalWaitNotice';
import { getStateQuery } from './definitions';
import { releaseLeases, rollback } from './rollback';
import { registerDecisionHandlers } from './rolloutHandlers';
import { actor, failureMessage, RolloutRun, toMs, type RolloutWorkflowInput } from './rolloutRun';
import { runStages } from './stageLoop';

export type { RolloutWorkflowInput } from './rolloutRun';

/** The baseline window before any change; short, since the monitoring windows carry the real evidence. */
const MAX_BASELINE_SECONDS = 5;

/**
 * The rollout: collect metrics → analyze → plan → approval → stages → finish. Each step may end the
 * rollout early (an abort, a refusal, nothing to do); a failure after a change rolls it back, and a
 * cancelled rollout rolls back before it ends. Replay safety: the order of every command here (and of
 * every `patched()` call) is the released build's; `tests/integration/replay.test.ts` holds it to that.
 */
export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<WorkflowState> {
  const run = new RolloutRun(input);
  setHandler(getStateQuery, () => run.state);
  // Decisions are checked against the REST bodies' limits, and their channel comes from how they
  // arrived (signal or update) instead of a payload field. Rollouts begun before that keep the old
  // handling when replayed: a signal the new check ignores would change what they did.
  const checkedDecisions = patched('decision-payload-checked-channel-from-transport');
  registerDecisionHandlers(run, checkedDecisions);
  // Recorded as of the rollout's created_at: the gateway's POST answer showed this entry at that time.
  run.audit('start', actor(input.started_by), startedVia(input, checkedDecisions), null, run.state.created_at);
  indexDeployment(input);

  try {
    const measured = await collectMetrics(run);
    if ('ended' in measured) return measured.ended;
    const analysis = await analyze(run, measured.baseline);
    const plan = await planOptimizations(run, analysis, measured.configs);
    if (plan.optimizations.length === 0) return nothingToRollOut(run, analysis);
    const refused = input.requires_approval ? await awaitApproval(run) : null;
    if (refused) return refused;
    return await runStages(run, measured.configs, analysis, plan);
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelling a rollout must not leave half the fleet on the new config.
      run.audit('cancel', 'temporal', 'temporal', 'workflow cancellation requested');
      await CancellationScope.nonCancellable(() => rollback(run, 'Rollout cancelled'));
      throw err;
    }
    const message = failureMessage(err);
    log.error('rollout step failed', { error: message, step: run.state.current_step });
    if (run.changed.size > 0) return await rollback(run, `${message}`);
    return run.finish('failed', { error_message: message });
  } finally {
    await releaseLeases(run);
  }
}

/** The gateway's rollouts are started by a deployment guard; anything else came straight through Temporal. */
function startedVia(input: RolloutWorkflowInput, checkedDecisions: boolean): Channel | undefined {
  if (!checkedDecisions) return input.started_via;
  return workflowInfo().parent?.workflowId.startsWith(DEPLOYMENT_GUARD_ID_PREFIX) ? 'rest' : 'temporal';
}

function indexDeployment(input: RolloutWorkflowInput): void {
  upsertSearchAttributes([
    // One value per deployment however it was spelled, so a search by deployment finds all its rollouts.
    { key: DEPLOYMENT_KEY, value: patched('canonical-deployment-key') ? canonicalDeploymentKey(input.instance_id) : input.instance_id },
    { key: ENGINE_KEY, value: input.instance_type },
  ]);
}

type Measured = { configs: ConfigRun[]; baseline: { start: EngineSample; end: EngineSample } } | { ended: WorkflowState };

/** collect_metrics: who the replicas are, what they run, and how they perform now. */
async function collectMetrics(run: RolloutRun): Promise<Measured> {
  const { input } = run;
  run.patchState({ status: 'running', current_step: 'collect_metrics' });
  const discovered = await reads.discoverReplicas.executeWithOptions({ summary: summaries.discover(input.instance_id) }, [
    { instance_id: input.instance_id, replicas: input.replicas },
  ]);
  const replicas = discovered.replicas;
  run.fleet = { instance_id: input.instance_id, replicas: input.replicas, count: replicas.length, digest: discovered.digest };
  const fleet = run.fleet;
  const configs = await reads.readReplicaConfigs.executeWithOptions({ summary: summaries.readConfigs(fleet.count) }, [{ fleet }]);
  run.patchState({ replicas });
  // Plans start from one config; a fleet left half-changed is refused before anything is pushed.
  const mixed = mixedConfigProblem(configs);
  if (mixed && patched('refuse-mixed-configs')) return { ended: run.finish('failed', { error_message: mixed }) };
  const everyReplica = { from: 0, to: replicas.length };
  // `members`: some replicas read one by one too, so analysis knows the window's noise (core/noiseMargin.ts).
  const sample = { engine: input.instance_type, fleet, range: everyReplica, source: input.metrics_source, members: SPREAD_REPLICAS };
  const start = await reads.sampleFleet.executeWithOptions({ summary: summaries.baselineSample('start', fleet.count) }, [sample]);
  const baselineSeconds = Math.min(input.monitoring_duration_seconds, MAX_BASELINE_SECONDS);
  await condition(() => run.abortRequest !== null, toMs(baselineSeconds), { summary: summaries.baselineWindow(baselineSeconds) });
  if (run.abortRequest) return { ended: run.finish('rejected', { error_message: run.abortMessage() }) };
  const end = await reads.sampleFleet.executeWithOptions({ summary: summaries.baselineSample('end', fleet.count) }, [sample]);
  return { configs, baseline: { start, end } };
}

async function analyze(run: RolloutRun, baseline: { start: EngineSample; end: EngineSample }): Promise<AnalysisResult> {
  run.patchState({ current_step: 'analyze_performance' });
  const analysis = await reads.analyzePerformance.executeWithOptions({ summary: summaries.analyze() }, [
    { start: baseline.start, end: baseline.end, slo: run.slo },
  ]);
  run.patchState({ analysis_result: analysis });
  return analysis;
}

async function planOptimizations(run: RolloutRun, analysis: AnalysisResult, configs: ConfigRun[]): Promise<OptimizationPlan> {
  run.patchState({ current_step: 'generate_optimizations' });
  // An explicit step (a tuning run's candidate) replaces the rules; only new requests carry one, and
  // the patch marks the histories that took this path.
  const override = run.input.plan_override;
  if (override && patched('plan-override')) {
    const explicit = planFromOverride(configs[0].engine_args, override, `servetune-${run.state.workflow_id}`);
    run.patchState({ optimization_plan: explicit });
    return explicit;
  }
  const plan = await reads.generateOptimizations.executeWithOptions({ summary: summaries.plan(run.input.instance_type) }, [
    {
      engine: run.input.instance_type,
      analysis,
      currentArgs: configs[0].engine_args,
      revision: `servetune-${run.state.workflow_id}`,
    },
  ]);
  run.patchState({ optimization_plan: plan });
  return plan;
}

function nothingToRollOut(run: RolloutRun, analysis: AnalysisResult): WorkflowState {
  if (run.patches.abortCheckpoints && run.abortRequest) return run.finish('rejected', { error_message: run.abortMessage() });
  return run.finish('completed', {
    final_health_score: analysis.overall_health_score,
    total_improvement: 'No bottleneck the planner can address; nothing rolled out',
  });
}

/** Waits for an approve, a reject or an abort; answers the ended state when the rollout must not go on. */
async function awaitApproval(run: RolloutRun): Promise<WorkflowState | null> {
  const { input, state } = run;
  run.patchState({ status: 'awaiting_approval', current_step: 'await_approval' });
  const tellTuningRun = approvalWaitNotifier(state.workflow_id);
  tellTuningRun({ awaiting: true, until: new Date(Date.now() + toMs(input.approval_timeout_seconds)).toISOString() });
  const decided = await condition(() => state.approved !== null || run.abortRequest !== null, toMs(input.approval_timeout_seconds), {
    summary: summaries.approvalWait(input.approval_timeout_seconds),
  });
  tellTuningRun({ awaiting: false });
  if (run.abortRequest) return run.finish('rejected', { error_message: run.abortMessage() });
  if (!decided) {
    return run.finish('rejected', {
      approved: false,
      error_message: `Approval timed out after ${input.approval_timeout_seconds}s`,
    });
  }
  if (state.approved === false) {
    return run.finish('rejected', { error_message: `Rejected by ${state.rejected_by}${state.rejection_reason ? `: ${state.rejection_reason}` : ''}` });
  }
  return null;
}
