/**
 * What the Temporal Web UI shows for a rollout: the static summary and details set when it starts, and
 * the current details (Markdown, which the UI renders) rewritten at every step. Pure, so the wording is
 * table-tested (tests/unit/core/rolloutStory.test.ts) and the workflow only hands over its state.
 */
import type { AuditEntry, RolloutRequest, StageRecord, WorkflowState, WorkflowStatus } from '../models';
import { formatScore } from './healthGate';
import { stageLabel } from './stagePlan';
import { fitSummary } from './stepSummaries';

/** What the summary is built from: the request as the gateway accepted it, defaults applied. */
export type StoryRequest = Pick<
  RolloutRequest,
  'instance_id' | 'instance_type' | 'stages' | 'requires_approval' | 'auto_rollout' | 'monitoring_duration_seconds' | 'health_threshold'
>;

/** What the state does not hold: when the running monitoring window ends (ISO 8601), if one runs. */
export interface StoryFacts {
  monitorEndsAt: string | null;
}

const HEADLINE: Record<WorkflowStatus, string> = {
  pending: 'Pending',
  running: 'Measuring and planning',
  awaiting_approval: 'Awaiting approval',
  rolling_out: 'Rolling out',
  completed: 'Completed',
  rejected: 'Rejected',
  rolled_back: 'Rolled back',
  failed: 'Failed',
};

function stagesText(stages: number[]): string {
  return stages.map(stageLabel).join(' → ');
}

/**
 * One line, the list's Summary column: what is rolled out where, in which stages, and who decides. The
 * planned change is not known yet at start; it is in the current details once planned.
 */
export function rolloutStaticSummary(r: StoryRequest): string {
  const decides = [r.requires_approval ? 'approval required' : 'no approval', r.auto_rollout ? 'auto promote' : 'manual promote'];
  return fitSummary(`rollout ${r.instance_id} (${r.instance_type}) · stages ${stagesText(r.stages)} · ${decides.join(', ')}`);
}

/** The request in full, for the workflow page's Details. */
export function rolloutStaticDetails(r: StoryRequest, startedBy: string): string {
  return [
    `- **deployment**: ${r.instance_id}`,
    `- **engine**: ${r.instance_type}`,
    `- **stages**: ${stagesText(r.stages)} of the replicas`,
    `- **approval**: ${r.requires_approval ? 'required before the first push' : 'not required'}`,
    `- **promotion**: ${r.auto_rollout ? 'automatic when a stage passes its gate' : 'manual (promote) after each stage'}`,
    `- **monitoring window**: ${r.monitoring_duration_seconds} s per stage`,
    `- **gate**: stage health ≥ ${r.health_threshold} × health before the stage`,
    `- **started by**: ${startedBy}`,
  ].join('\n');
}

/** A deployment's guard, told apart from its rollout in the list at a glance. */
export function guardStaticSummary(deploymentKey: string): string {
  return fitSummary(`deployment guard for ${deploymentKey}`);
}

/** Set at start, so true whether or not the guard still runs. */
export function guardStaticDetails(deploymentKey: string, rolloutId: string): string {
  return `Deployment guard: claims **${deploymentKey}** for rollout **${rolloutId}** for as long as that rollout runs. A second rollout of this deployment is refused meanwhile.`;
}

/** The guard's current details: which rollout holds the claim on the deployment, or held it. */
export function guardDetails(deploymentKey: string, rolloutId: string, released: boolean): string {
  const holds = released ? `held the claim on **${deploymentKey}** for` : `holds the claim on **${deploymentKey}** for`;
  const note = released
    ? 'The rollout has ended; the deployment is free.'
    : 'A second rollout of this deployment is refused until that rollout ends.';
  return `Deployment guard: ${holds} rollout **${rolloutId}**.\n\n${note}`;
}

function headline(s: WorkflowState): string {
  const title = `**${HEADLINE[s.status]}**`;
  if (s.status === 'completed') {
    const score = s.final_health_score === null ? '' : ` (final health ${formatScore(s.final_health_score)})`;
    return `${title}: ${s.total_improvement ?? 'done'}${score}`;
  }
  // The reason a rollout did not complete comes first, not at the bottom of the result.
  if (s.error_message && (s.status === 'rolled_back' || s.status === 'failed' || s.status === 'rejected')) return `${title}: ${s.error_message}`;
  return `${title}: ${s.current_step.replace(/_/g, ' ')}`;
}

function stageLine(s: WorkflowState, record: StageRecord): string {
  const n = s.rollout_history.indexOf(record) + 1;
  return `- **stage**: ${n} of ${s.stages.length} (${record.stage}, ${record.replicas.length} of ${s.replicas.length} replicas) — ${record.status.replace('_', ' ')}`;
}

/** Health against the gate: `health 81.2 ≥ gate 75.8 (0.9 × 84.2)`. */
export function healthAgainstGate(record: StageRecord, threshold: number): string {
  const before = record.health_score_before;
  const latest = record.samples.length > 0 ? record.samples[record.samples.length - 1].health_score : record.health_score_after;
  if (before === null) return 'no baseline health score: the gate cannot pass';
  const gate = threshold * before;
  const gateText = `gate ${formatScore(gate)} (${threshold} × ${formatScore(before)})`;
  if (latest === null || latest === undefined) return record.samples.length > 0 ? `no health data · ${gateText}` : `no sample yet · ${gateText}`;
  return `${formatScore(latest)} ${latest + 1e-9 >= gate ? '≥' : '<'} ${gateText}`;
}

type Decision = { at: string; text: string };

function auditDecision(e: AuditEntry): Decision | null {
  if (e.action === 'start') return null;
  const verb = { approve: 'approved', reject: 'rejected', promote: 'promoted', abort: 'aborted', cancel: 'cancelled' }[e.action];
  return { at: e.at, text: `${verb} by ${e.actor} (${e.channel})${e.detail ? `: ${e.detail}` : ''}` };
}

function stageDecision(r: StageRecord): Decision | null {
  if (!r.decision || !r.completed_at) return null;
  return { at: r.completed_at, text: `stage ${r.stage} ${r.status === 'failed' ? 'failed' : 'passed'}: ${r.decision}` };
}

/** The latest decision taken, by a person (approve, abort, …) or by a stage's gate. */
export function lastDecision(s: WorkflowState): string | null {
  const decisions = [...s.audit.map(auditDecision), ...s.rollout_history.map(stageDecision)].filter((d): d is Decision => d !== null);
  if (decisions.length === 0) return null;
  // ISO 8601 timestamps from one clock sort as strings; a later entry wins a tie.
  return decisions.reduce((latest, d) => (d.at >= latest.at ? d : latest)).text;
}

function plannedChange(s: WorkflowState): string | null {
  const plan = s.optimization_plan;
  if (!plan) return null;
  if (plan.optimizations.length === 0) return 'nothing to change';
  const changes = plan.optimizations.map((o) => `\`${o.parameter}\` ${o.current ?? 'unset'} → ${o.proposed}`).join(', ');
  return `${changes} (revision ${plan.revision}; estimated ${plan.estimated_total_improvement})`;
}

/** The workflow page's current details: status and why up front, then where the rollout stands. */
export function rolloutCurrentDetails(s: WorkflowState, facts: StoryFacts): string {
  const lines = [headline(s), '', `- **status**: ${s.status} · step ${s.current_step}`];
  const record = s.rollout_history.length > 0 ? s.rollout_history[s.rollout_history.length - 1] : null;
  if (record) {
    lines.push(stageLine(s, record), `- **health**: ${healthAgainstGate(record, s.health_threshold)}`);
  } else if (s.analysis_result) {
    const score = s.analysis_result.overall_health_score;
    lines.push(`- **health before any change**: ${score === null ? 'no data' : formatScore(score)}`);
  }
  if (s.current_step === 'monitor_stage' && facts.monitorEndsAt) lines.push(`- **monitoring window ends**: ${facts.monitorEndsAt}`);
  const decision = lastDecision(s);
  if (decision) lines.push(`- **last decision**: ${decision}`);
  const change = plannedChange(s);
  if (change) lines.push(`- **planned change**: ${change}`);
  return lines.join('\n');
}
