/**
 * Text views of rollouts for the gateway commands. All pure: a state (and, for the live view, the
 * current time) in, text out, so tests check them directly.
 */
import { createColors } from 'picocolors';
import { type RolloutRow, type SummaryState, type WorkflowState, type WorkflowStatus } from '../models';
import { table } from './format';
import { TERMINAL_STATUSES } from '../contract';
import { currentHealth, currentStage } from '../core/rolloutSummary';

export { currentHealth, currentStage };

export interface ViewOptions {
  /** ANSI colors (only when writing to a terminal). */
  color?: boolean;
  /** Width of the stage progress bar in cells. */
  barWidth?: number;
}

const score = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(1));

/** "6s", "4m 05s", "1h 02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[██████░░░░░░]` filled to `fraction` (0–1). */
export function progressBar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** Milliseconds left in the current stage's monitoring window (from its start), or null when no window runs. */
export function windowLeftMs(s: WorkflowState, nowMs: number): number | null {
  const stage = currentStage(s);
  if (!stage || stage.status !== 'in_progress' || TERMINAL_STATUSES.includes(s.status)) return null;
  const started = Date.parse(stage.started_at);
  if (Number.isNaN(started)) return null;
  return Math.max(0, started + s.monitoring_duration_seconds * 1000 - nowMs);
}

/** The latest decision: a stage's gate verdict, else what ended or holds the rollout. */
export function lastDecision(s: WorkflowState): string {
  const decided = [...s.rollout_history].reverse().find((r) => r.decision !== null);
  if (s.status === 'rolled_back' || s.status === 'failed') return s.error_message ?? `${s.status}`;
  if (s.status === 'rejected') return `rejected by ${s.rejected_by ?? 'anonymous'}${s.rejection_reason ? `: ${s.rejection_reason}` : ''}`;
  if (s.status === 'completed' && s.rollout_history.length === 0) return s.total_improvement ?? 'nothing to tune';
  if (decided) return `${decided.stage}: ${decided.decision}`;
  if (s.status === 'awaiting_approval') return `waiting for approval: servetune approve ${s.workflow_id}`;
  if (s.optimization_plan) return `plan: ${planSummary(s)}`;
  return 'none yet';
}

function planSummary(s: WorkflowState): string {
  const plan = s.optimization_plan;
  if (!plan || plan.optimizations.length === 0) return 'no change proposed';
  const changes = plan.optimizations.map((o) => `${o.parameter} ${o.current ?? 'default'} -> ${o.proposed}`).join(', ');
  return `${changes} (estimated ${plan.estimated_total_improvement})`;
}

/** Share of the fleet the rollout has moved so far (the last stage reached), 0–100. */
function movedPercent(s: WorkflowState): number {
  if (s.status === 'rolled_back') return 0;
  const reached = s.rollout_history.filter((r) => r.status !== 'failed');
  return reached.length > 0 ? reached[reached.length - 1].percentage : 0;
}

function stageMarks(s: WorkflowState, c: ReturnType<typeof createColors>): string {
  return s.stages
    .map((p) => {
      const r = s.rollout_history.find((x) => x.percentage === p);
      if (!r) return `${p}% ·`;
      if (r.status === 'success') return `${p}% ${c.green('✓')}`;
      if (r.status === 'failed') return `${p}% ${c.red('✗')}`;
      return `${p}% ${c.yellow('▶')}`;
    })
    .join('  ');
}

function statusColor(status: WorkflowStatus, c: ReturnType<typeof createColors>): (t: string) => string {
  if (status === 'completed') return c.green;
  if (status === 'rolled_back' || status === 'failed' || status === 'rejected') return c.red;
  if (status === 'awaiting_approval') return c.yellow;
  return c.cyan;
}

/**
 * The live view of `servetune watch`: header, stage progress bar, current and baseline health, time
 * left in the monitoring window, last decision. Ends with a newline.
 */
export function renderWatch(s: WorkflowState, nowMs: number, opts: ViewOptions = {}): string {
  const c = createColors(opts.color === true);
  const stage = currentStage(s);
  const lines: string[] = [];
  const step = TERMINAL_STATUSES.includes(s.status) ? '' : ` (${s.current_step})`;
  lines.push(`${c.bold(s.workflow_id)}  ${s.instance_id} (${s.instance_type})  ${statusColor(s.status, c)(s.status)}${step}`);

  const moved = movedPercent(s);
  const replicas = s.replicas.length > 0 && stage ? `, ${s.status === 'rolled_back' ? 0 : stage.replicas.length}/${s.replicas.length} replicas` : '';
  lines.push(`stages    ${progressBar(moved / 100, opts.barWidth)} ${String(moved).padStart(3)}%${replicas}   ${stageMarks(s, c)}`);

  const baseline = s.analysis_result?.overall_health_score ?? null;
  let health = `health    current ${score(currentHealth(s))}  baseline ${score(baseline)}`;
  if (stage && stage.status === 'in_progress' && stage.health_score_before !== null) {
    health += `  gate ≥ ${score(s.health_threshold * stage.health_score_before)} (${s.health_threshold} × ${score(stage.health_score_before)})`;
  }
  lines.push(health);

  const left = windowLeftMs(s, nowMs);
  if (left !== null && stage) {
    lines.push(`window    ${stage.stage} stage: ${formatDuration(left)} left of ${formatDuration(s.monitoring_duration_seconds * 1000)}`);
  } else if (s.current_step === 'await_promotion') {
    lines.push(`window    stage passed; waiting for a promote (POST /api/v1/workflows/${s.workflow_id}/promote)`);
  }

  const decision = lastDecision(s);
  lines.push(`decision  ${s.status === 'rolled_back' || s.status === 'failed' ? c.red(decision) : decision}`);
  if (s.status === 'completed' && s.total_improvement && s.rollout_history.length > 0) lines.push(`result    ${s.total_improvement}`);
  return `${lines.join('\n')}\n`;
}

/** One line per state change when stdout is not a terminal (logs, CI). */
export function renderWatchLine(s: WorkflowState, nowMs: number): string {
  const parts = [new Date(nowMs).toISOString(), s.status, s.current_step];
  const moved = movedPercent(s);
  parts.push(`${progressBar(moved / 100, 10)} ${moved}%`);
  parts.push(`health ${score(currentHealth(s))} (baseline ${score(s.analysis_result?.overall_health_score)})`);
  const left = windowLeftMs(s, nowMs);
  if (left !== null) parts.push(`${formatDuration(left)} left in ${currentStage(s)!.stage}`);
  parts.push(lastDecision(s));
  return `${parts.join(' | ')}\n`;
}

/** The improvement check in one line: "not_better against the old-config replicas (50% stage); required". */
function improvementSummary(i: NonNullable<WorkflowState['improvement']>): string {
  const against = i.comparison === 'baseline_replicas' ? 'the old-config replicas' : 'the window before the change';
  return `${i.verdict} against ${against}${i.stage ? ` (${i.stage} stage)` : ''}; ${i.required ? 'required' : 'not required (require_improvement false)'}`;
}

/** `servetune status`: the whole state, readable. */
/** A GET the rollout itself did not answer (no worker in time, or closed by Temporal): its last summary and why. */
export function formatSummary(s: SummaryState): string {
  const rows: string[][] = [
    ['status', `${s.status}${s.current_step ? ` (${s.current_step})` : ''}${s.current_stage ? `, stage ${s.current_stage}` : ''}; Temporal: ${s.execution_status}`],
    ['created', `${s.created_at}  (updated ${s.updated_at})`],
    ['health', `current ${score(s.health_score_current)}  baseline ${score(s.health_score_baseline)}  final ${score(s.final_health_score)}`],
  ];
  if (s.error_message) rows.push(['error', s.error_message]);
  rows.push(['live', `unavailable: ${s.live_unavailable_reason}`]);
  return `${s.workflow_id}  ${s.instance_id} (${s.instance_type ?? 'engine unknown'})\n${table(rows, '')}\n`;
}

export function formatState(s: WorkflowState): string {
  const out: string[] = [`${s.workflow_id}  ${s.instance_id} (${s.instance_type})`];
  const approval = !s.requires_approval
    ? 'not required'
    : s.approved === true
      ? `approved by ${s.approved_by ?? 'anonymous'}${s.approval_comment ? `: ${s.approval_comment}` : ''}`
      : s.approved === false
        ? `rejected by ${s.rejected_by ?? 'anonymous'}${s.rejection_reason ? `: ${s.rejection_reason}` : ''}`
        : 'required, waiting';
  const a = s.analysis_result;
  const rows: string[][] = [
    ['status', `${s.status} (${s.current_step})${s.current_stage ? `, stage ${s.current_stage}` : ''}`],
    ['created', `${s.created_at}  (updated ${s.updated_at})`],
    ['settings', `stages ${s.stages.map((p) => `${p}%`).join(' -> ')}, window ${s.monitoring_duration_seconds} s, threshold ${s.health_threshold}, ${s.auto_rollout ? 'auto rollout' : 'promote each stage'}`],
    ['approval', approval],
  ];
  if (s.replicas.length > 0) rows.push(['replicas', String(s.replicas.length)]);
  if (a) {
    rows.push(['baseline', `health ${score(a.overall_health_score)}`]);
    rows.push(['bottlenecks', a.bottlenecks.length === 0 ? 'none' : a.bottlenecks.map((b) => `${b.kind} (${b.metric} ${+b.value.toFixed(4)} vs ${b.threshold})`).join(', ')]);
  }
  if (s.optimization_plan) rows.push(['plan', planSummary(s)]);
  if (s.final_health_score !== null) rows.push(['final health', score(s.final_health_score)]);
  if (s.total_improvement) rows.push(['improvement', s.total_improvement]);
  if (s.improvement) rows.push(['kept?', improvementSummary(s.improvement)]);
  if (s.error_message) rows.push(['error', s.error_message]);
  out.push(table(rows));
  if (s.rollout_history.length > 0) {
    out.push('', 'Stages');
    out.push(
      table([
        ['stage', 'status', 'replicas', 'before', 'after', 'started', 'completed', 'decision'],
        ...s.rollout_history.map((r) => [
          r.stage,
          r.status,
          String(r.replicas.length),
          score(r.health_score_before),
          score(r.health_score_after),
          r.started_at,
          r.completed_at ?? '-',
          r.decision ?? '-',
        ]),
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}

/** `servetune list`: one row per rollout. */
export function formatList(rows: readonly RolloutRow[]): string {
  if (rows.length === 0) return 'no rollouts\n';
  return `${table(
    [
      ['ID', 'DEPLOYMENT', 'ENGINE', 'STATUS', 'STEP', 'STAGE', 'HEALTH', 'CREATED'],
      ...rows.map((s) => [s.workflow_id, s.instance_id, s.instance_type ?? '-', s.status, s.current_step ?? '-', s.current_stage ?? '-', score(s.health_score_current), s.created_at]),
    ],
    '',
  )}\n`;
}
