import { patched } from '@temporalio/workflow';
import type { MetricSeries } from '../activities';
import type { AnalysisResult, OptimizationPlan, WorkflowState } from '../models';
import { CANARY_METRICS } from '../core/canaryJudge';
import { judgeImprovement, targetedMetrics } from '../core/improvementJudge';
import { rollback } from './rollback';
import type { RolloutRun } from './rolloutRun';

/** What the stages measured that the check can judge: the last stage with both groups, and the last stage. */
export interface ImprovementEvidence {
  /** The latest stage that still had replicas on the old config, with both groups' series. */
  compared: { stage: string; canary: MetricSeries; baseline: MetricSeries } | null;
  /** The last stage's changed-replica series (its only group when it was 100%). */
  last: { stage: string; canary: MetricSeries } | null;
}

/**
 * After the last stage passed: was the change better than the old config on what the plan targeted?
 * Not better (or no evidence that it was) rolls every changed replica back unless the request said
 * `require_improvement: false`; either way the state records the verdict. Rollouts begun before this
 * check existed end as they did (`patched`), and so do rollouts replayed from their histories.
 * Answers the ended state when the rollout rolled back, else null (the caller completes it).
 */
export async function checkImprovement(run: RolloutRun, analysis: AnalysisResult, plan: OptimizationPlan, evidence: ImprovementEvidence): Promise<WorkflowState | null> {
  if (!patched('require-improvement')) return null;
  return judgeAndAct(run, analysis, plan, evidence);
}

/**
 * The same check, taken as soon as its verdict is settled: after the last stage that still has replicas on
 * the old config, the evidence the check after the last stage would judge is complete (no later stage has a
 * baseline group), so a change that is not better is rolled back there, before the remaining stages restart
 * replicas only to restart them again. Same verdict, fewer engine restarts. Rollouts begun before this
 * existed take the check after the last stage only (`patched`).
 */
export async function checkImprovementAtLastComparedStage(run: RolloutRun, analysis: AnalysisResult, plan: OptimizationPlan, evidence: ImprovementEvidence): Promise<WorkflowState | null> {
  if (!patched('improvement-at-last-compared-stage') || !patched('require-improvement')) return null;
  return judgeAndAct(run, analysis, plan, evidence);
}

async function judgeAndAct(run: RolloutRun, analysis: AnalysisResult, plan: OptimizationPlan, evidence: ImprovementEvidence): Promise<WorkflowState | null> {
  const required = run.input.require_improvement !== false;
  const metrics = targetedMetrics(plan.optimizations.map((o) => o.addresses));
  const targets = { ...run.slo };
  const judged = evidence.compared
    ? { stage: evidence.compared.stage, ...judgeImprovement({ metrics, targets, comparison: 'baseline_replicas', canary: evidence.compared.canary, baseline: evidence.compared.baseline }) }
    : {
        stage: evidence.last?.stage ?? null,
        ...judgeImprovement({
          metrics,
          targets,
          comparison: 'pre_change_window',
          canary: evidence.last?.canary ?? {},
          before: Object.fromEntries(CANARY_METRICS.map((m) => [m, analysis.metrics[m] ?? null])),
        }),
      };
  run.patchState({ improvement: { required, verdict: judged.verdict, comparison: judged.comparison, stage: judged.stage, metrics: judged.metrics, reason: judged.reason } });
  if (judged.verdict === 'better' || !required) return null;
  return rollback(run, `Change not kept: ${judged.reason}`);
}
