import { condition } from '@temporalio/workflow';
import type { StageMeasurement } from '../activities';
import type { AnalysisResult, OptimizationPlan, WorkflowState } from '../models';
import { configAt, type ConfigRun } from '../core/fleetRef';
import { budgetedSamplingIntervalSeconds, decideSample } from '../core/monitoring';
import { describeImprovement, startedStage } from '../core/rolloutState';
import { isLastComparedStage, planStages, type PlannedStage } from '../core/stagePlan';
import { summaries, type StagePosition } from '../core/stepSummaries';
import { monitoringTicks, nextAfterStage, samplingIntervalSeconds } from '../core/transitions';
import { awaitedPushes, pushes, reads } from './activityProxies';
import { cancelOnRequest } from './cancelOnRequest';
import { checkImprovement, checkImprovementAtLastComparedStage, type ImprovementEvidence } from './improvementCheck';
import { rollback, stopForAbort } from './rollback';
import { nowIso, toMs, type RolloutRun } from './rolloutRun';

type StageRecord = WorkflowState['rollout_history'][number];
type StageOutcome = { score: number | null; failure?: string; series?: StageMeasurement['series']; comparedGroups?: boolean };

/**
 * The stages, one after the other: push, monitor, gate; between stages, a wait for promotion unless
 * the rollout promotes itself. A failed stage, an abort or a missed promotion rolls everything back.
 */
export async function runStages(run: RolloutRun, configs: ConfigRun[], analysis: AnalysisResult, plan: OptimizationPlan): Promise<WorkflowState> {
  const { input, patches } = run;
  const stages = planStages(input.stages, run.state.replicas);
  let scoreBefore = analysis.overall_health_score;
  const evidence: ImprovementEvidence = { compared: null, last: null };
  for (const [index, stage] of stages.entries()) {
    // Checkpoint: an abort accepted during analysis, planning or the last sample stops before this push.
    if (patches.abortCheckpoints && run.abortRequest) return await stopForAbort(run);
    const position: StagePosition = { label: stage.label, number: index + 1, count: stages.length };
    const outcome = await runStage(run, stage, scoreBefore, configs, position);
    if (outcome.failure) return await rollback(run, outcome.failure);
    scoreBefore = outcome.score;
    if (outcome.series) {
      evidence.last = { stage: stage.label, canary: outcome.series.canary };
      if (outcome.comparedGroups) evidence.compared = { stage: stage.label, ...outcome.series };
    }
    if (outcome.comparedGroups && isLastComparedStage(stages, index, run.fleet.count)) {
      const notKept = await checkImprovementAtLastComparedStage(run, analysis, plan, evidence);
      if (notKept) return notKept;
    }
    const next = nextAfterStage({ isLastStage: index === stages.length - 1, autoRollout: input.auto_rollout });
    if (next === 'await_promotion') {
      run.patchState({ current_step: 'await_promotion' });
      const wanted = run.promotions + 1;
      const promoted = await condition(() => run.promotions >= wanted || run.abortRequest !== null, toMs(input.approval_timeout_seconds), {
        summary: summaries.promotionWait(position, input.approval_timeout_seconds),
      });
      if (run.abortRequest) return await rollback(run, run.abortMessage());
      if (!promoted) return await rollback(run, `No promotion within ${input.approval_timeout_seconds}s`);
    }
  }

  if (patches.abortCheckpoints && run.abortRequest) return await rollback(run, run.abortMessage());
  const notKept = await checkImprovement(run, analysis, plan, evidence);
  if (notKept) return notKept;
  return run.finish('completed', {
    final_health_score: scoreBefore,
    total_improvement: describeImprovement(analysis.overall_health_score, scoreBefore, plan.estimated_total_improvement),
  });
}

/** rollout_stage → monitor_stage → health gate. Returns the stage's score, or why it failed. */
async function runStage(run: RolloutRun, stage: PlannedStage, before: number | null, configs: ConfigRun[], position: StagePosition): Promise<StageOutcome> {
  const { state, input, patches, fleet } = run;
  const plan = state.optimization_plan!;
  const record = startedStage(stage, before, nowIso());
  state.rollout_history.push(record);
  run.patchState({ status: 'rolling_out', current_step: 'rollout_stage', current_stage: stage.label });

  for (let i = stage.addedRange.from; i < stage.addedRange.to; i++) {
    const previous = configAt(configs, i);
    // Recorded before the push: a push that half-happened must still be undone.
    run.changed.set(state.replicas[i], { address: state.replicas[i], revision: previous.revision, engine_args: previous.engine_args });
  }
  const apply = { fleet, range: stage.addedRange, revision: plan.revision, engine_args: plan.engine_args, lease_seconds: run.leaseSeconds };
  // An abort during the push cancels it (and waits until it stopped); the check below then rolls back.
  const pushed = { summary: summaries.push(plan.revision, stage.addedRange, fleet.count, position) };
  if (patches.cancellablePushes) await cancelOnRequest(() => run.abortRequest !== null, () => awaitedPushes.applyConfig.executeWithOptions(pushed, [apply]));
  else await pushes.applyConfig.executeWithOptions(pushed, [apply]);
  if (run.abortRequest) return endStage(run, record, null, run.abortMessage());

  run.patchState({ current_step: 'monitor_stage' });
  const window = state.monitoring_duration_seconds;
  // Stages move a prefix of the list, so the replicas still on the old config are the rest of it.
  const baseline = stage.range.to < fleet.count ? { from: stage.range.to, to: fleet.count } : null;
  const [canaryStart, baselineStart] = await Promise.all([
    reads.sampleFleet.executeWithOptions({ summary: summaries.windowStartSample('canary', stage.range, fleet.count, position) }, [
      { engine: state.instance_type, fleet, range: stage.range, source: input.metrics_source },
    ]),
    baseline
      ? reads.sampleFleet.executeWithOptions({ summary: summaries.windowStartSample('baseline', baseline, fleet.count, position) }, [
          { engine: state.instance_type, fleet, range: baseline, source: input.metrics_source },
        ])
      : Promise.resolve(null),
  ]);
  let previous = { canary: canaryStart, baseline: baselineStart };
  let series: StageMeasurement['series'] = { canary: {}, baseline: {} };
  const interval = patches.boundedMonitoring ? budgetedSamplingIntervalSeconds(window, position.count) : samplingIntervalSeconds(window);
  const ticks = monitoringTicks(window, interval);
  let elapsed = 0;
  let consecutiveFailures = 0;
  let after: number | null = null;
  for (const [i, tick] of ticks.entries()) {
    await condition(() => run.abortRequest !== null, toMs(tick - elapsed), { summary: summaries.monitoringTick(position, tick - elapsed, i + 1, ticks.length) });
    elapsed = tick;
    if (run.abortRequest) return endStage(run, record, after, run.abortMessage());
    const m = await reads.measureStage.executeWithOptions({ summary: summaries.measure(position, i + 1, ticks.length) }, [
      {
        engine: state.instance_type,
        source: input.metrics_source,
        slo: run.slo,
        fleet,
        canary: stage.range,
        baseline,
        windowStart: canaryStart,
        previous,
        series,
      },
    ]);
    previous = m.samples;
    series = m.series;
    after = m.health.score;
    record.samples.push({ at: nowIso(), health_score: after });
    record.canary_judgement = m.judgement;
    if (m.load !== undefined) record.load = m.load;
    run.patchState({ rollout_history: state.rollout_history });
    // Checkpoint: an abort that landed during this sample (the last one too) fails the stage.
    if (patches.abortCheckpoints && run.abortRequest) return endStage(run, record, after, run.abortMessage());
    const decision = decideSample({
      before,
      after,
      threshold: state.health_threshold,
      judgement: m.judgement,
      consecutiveFailures,
      isFinalSample: i === ticks.length - 1,
    });
    consecutiveFailures = decision.consecutiveFailures;
    if (decision.outcome === 'fail') return endStage(run, record, after, decision.reason);
    if (decision.outcome === 'pass') {
      endStage(run, record, after, null, decision.reason);
      return { score: after, series, comparedGroups: baseline !== null };
    }
  }
  return endStage(run, record, after, 'Monitoring window produced no samples');
}

function endStage(run: RolloutRun, record: StageRecord, after: number | null, failure: string | null, decision?: string): StageOutcome {
  record.status = failure ? 'failed' : 'success';
  record.completed_at = nowIso();
  record.health_score_after = after;
  record.decision = failure ?? decision ?? null;
  run.patchState({ rollout_history: run.state.rollout_history });
  return { score: after, failure: failure ?? undefined };
}
