/** The pure text views of the gateway commands: `watch`'s live view and log line, `status`, `list`. */
import { eraseRows, screenRows } from '../../../cli/watch';
import { initialState } from '../../../core/rolloutState';
import {
  currentHealth,
  formatDuration,
  formatList,
  formatSummary,
  formatState,
  lastDecision,
  progressBar,
  renderWatch,
  renderWatchLine,
  windowLeftMs,
} from '../../../cli/rolloutView';
import { rolloutSummary } from '../../../core/rolloutSummary';
import { RolloutRequestSchema, type StageRecord, type WorkflowState } from '../../../models';

const T0 = Date.parse('2025-06-02T09:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const REPLICAS = Array.from({ length: 10 }, (_, i) => `r${i}:8000`);

const base: WorkflowState = initialState(
  'rollout-1',
  RolloutRequestSchema.parse({ instance_id: 'localhost:8000', instance_type: 'vllm', monitoring_duration_seconds: 10 }),
  at(0),
);

const analysed: WorkflowState = {
  ...base,
  status: 'running',
  current_step: 'generate_optimizations',
  replicas: REPLICAS,
  analysis_result: {
    bottlenecks: [{ kind: 'kv_cache_pressure', metric: 'preemptions_per_second', value: 0.8, threshold: 0.1, description: 'preempted' }],
    overall_health_score: 71.5,
    health_components: [],
    metrics: {
      window_seconds: 5,
      replicas: 10,
      request_rate: 40,
      requests_running: 100,
      requests_waiting: 3,
      kv_cache_usage: 0.9,
      preemptions_per_second: 0.8,
      prefix_cache_hit_rate: null,
      ttft_p50_ms: 300,
      ttft_p95_ms: 900,
      ttft_p99_ms: 1200,
      itl_p50_ms: 30,
      itl_p95_ms: 48,
      e2e_p95_ms: 20000,
      generation_tokens_per_second: 5000,
      error_rate: 0.004,
    },
  },
  optimization_plan: {
    optimizations: [
      { parameter: 'gpu_memory_utilization', current: 0.85, proposed: 0.9, reason: 'more KV cache', addresses: 'kv_cache_pressure', expected_improvement_pct: [10, 20], source: 'docs' },
    ],
    estimated_total_improvement: '10-20%',
    engine_args: { gpu_memory_utilization: 0.9 },
    revision: 'servetune-rollout-1',
  },
};

const stage = (p: number, n: number, start: number, over: Partial<StageRecord> = {}): StageRecord => ({
  stage: `${p}%`,
  percentage: p,
  status: 'success',
  started_at: at(start),
  completed_at: at(start + 11),
  health_score_before: 71.5,
  health_score_after: 84,
  replicas: REPLICAS.slice(0, n),
  samples: [{ at: at(start + 11), health_score: 84 }],
  canary_judgement: null,
  decision: 'Health score 84.0 ≥ 64.4 (0.9 × 71.5)',
  ...over,
});

/** Stage 50% six seconds into its 10-second window, one sample so far. */
const monitoring: WorkflowState = {
  ...analysed,
  status: 'rolling_out',
  current_step: 'monitor_stage',
  current_stage: '50%',
  rollout_history: [
    stage(10, 1, 6),
    stage(50, 5, 18, { status: 'in_progress', completed_at: null, health_score_before: 84, health_score_after: null, samples: [{ at: at(22), health_score: 82.5 }], decision: null }),
  ],
};

const completed: WorkflowState = {
  ...monitoring,
  status: 'completed',
  current_step: 'complete',
  current_stage: '100%',
  rollout_history: [stage(10, 1, 6), stage(50, 5, 18, { health_score_after: 85 }), stage(100, 10, 30, { health_score_after: 86.1, decision: 'Health score 86.1 ≥ 76.5 (0.9 × 85.0)' })],
  final_health_score: 86.1,
  total_improvement: '+20.4% health score (71.5 → 86.1); planner estimated 10-20%',
};

const rolledBack: WorkflowState = {
  ...monitoring,
  status: 'rolled_back',
  current_step: 'rollback',
  rollout_history: [stage(10, 1, 6), stage(50, 5, 18, { status: 'failed', health_score_before: 84, health_score_after: 70, decision: 'Health score dropped below threshold (70.0 < 75.6)' })],
  final_health_score: 70,
  error_message: 'Health score dropped below threshold (70.0 < 75.6), rolled back changes',
};

describe('renderWatch', () => {
  it('while a stage is monitored: bar, marks, current and baseline health, gate, time left, last decision', () => {
    expect(renderWatch(monitoring, T0 + 24_000)).toBe(
      [
        'rollout-1  localhost:8000 (vllm)  rolling_out (monitor_stage)',
        'stages    [██████████░░░░░░░░░░]  50%, 5/10 replicas   10% ✓  50% ▶  100% ·',
        'health    current 82.5  baseline 71.5  gate ≥ 75.6 (0.9 × 84.0)',
        'window    50% stage: 4s left of 10s',
        'decision  10%: Health score 84.0 ≥ 64.4 (0.9 × 71.5)',
        '',
      ].join('\n'),
    );
  });

  it('time left counts down from the stage start and stops at 0', () => {
    expect(renderWatch(monitoring, T0 + 18_000)).toContain('window    50% stage: 10s left of 10s');
    expect(renderWatch(monitoring, T0 + 27_500)).toContain('window    50% stage: 1s left of 10s');
    expect(renderWatch(monitoring, T0 + 60_000)).toContain('window    50% stage: 0s left of 10s');
    expect(windowLeftMs(monitoring, T0 + 20_000)).toBe(8_000);
    expect(windowLeftMs(completed, T0 + 20_000)).toBeNull();
    expect(windowLeftMs({ ...monitoring, monitoring_duration_seconds: 3600 }, T0 + 18_000 + 1_000)).toBe(3_599_000);
  });

  it('before any stage: no bar progress, no window; the plan, or the approval to give', () => {
    expect(renderWatch(base, T0)).toBe(
      ['rollout-1  localhost:8000 (vllm)  pending (pending)', 'stages    [░░░░░░░░░░░░░░░░░░░░]   0%   10% ·  50% ·  100% ·', 'health    current n/a  baseline n/a', 'decision  none yet', ''].join('\n'),
    );
    expect(renderWatch(analysed, T0)).toContain('decision  plan: gpu_memory_utilization 0.85 -> 0.9 (estimated 10-20%)');
    const awaiting = { ...analysed, status: 'awaiting_approval' as const, current_step: 'await_approval' as const };
    expect(renderWatch(awaiting, T0)).toContain('decision  waiting for approval: servetune approve rollout-1');
    expect(renderWatch(awaiting, T0)).toContain('health    current 71.5  baseline 71.5');
  });

  it('waiting for a promote says so', () => {
    const waiting: WorkflowState = { ...monitoring, current_step: 'await_promotion', rollout_history: [stage(10, 1, 6)] };
    expect(renderWatch(waiting, T0 + 30_000)).toContain('window    stage passed; waiting for a promote (POST /api/v1/workflows/rollout-1/promote)');
  });

  it('completed: full bar, the result', () => {
    const view = renderWatch(completed, T0 + 60_000);
    expect(view).toContain('rollout-1  localhost:8000 (vllm)  completed\n');
    expect(view).toContain('stages    [████████████████████] 100%, 10/10 replicas   10% ✓  50% ✓  100% ✓');
    expect(view).toContain('health    current 86.1  baseline 71.5\n');
    expect(view).not.toContain('window');
    expect(view).toContain('decision  100%: Health score 86.1 ≥ 76.5 (0.9 × 85.0)');
    expect(view).toContain('result    +20.4% health score (71.5 → 86.1); planner estimated 10-20%');
  });

  it('rolled back: nothing left on the new config, the failed stage marked, the reason', () => {
    const view = renderWatch(rolledBack, T0 + 60_000);
    expect(view).toContain('stages    [░░░░░░░░░░░░░░░░░░░░]   0%, 0/10 replicas   10% ✓  50% ✗  100% ·');
    expect(view).toContain('decision  Health score dropped below threshold (70.0 < 75.6), rolled back changes');
  });

  it('rejected, failed, and completed with nothing to tune', () => {
    expect(lastDecision({ ...analysed, status: 'rejected', approved: false, rejected_by: 'bob', rejection_reason: 'freeze' })).toBe('rejected by bob: freeze');
    expect(lastDecision({ ...analysed, status: 'failed', error_message: 'discovering replicas: ECONNREFUSED' })).toBe('discovering replicas: ECONNREFUSED');
    expect(lastDecision({ ...analysed, status: 'completed', total_improvement: 'nothing rolled out' })).toBe('nothing rolled out');
  });

  it('colors only when asked, and the text is the same underneath', () => {
    const colored = renderWatch(monitoring, T0 + 24_000, { color: true });
    expect(colored).toMatch(/\x1b\[\d+m/);
    expect(colored.replace(/\x1b\[\d+m/g, '')).toBe(renderWatch(monitoring, T0 + 24_000));
    expect(renderWatch(monitoring, T0 + 24_000)).not.toMatch(/\x1b/);
  });
});

describe('renderWatchLine (not a terminal)', () => {
  it('one line with the same elements', () => {
    expect(renderWatchLine(monitoring, T0 + 24_000)).toBe(
      '2025-06-02T09:00:24.000Z | rolling_out | monitor_stage | [█████░░░░░] 50% | health 82.5 (baseline 71.5) | 4s left in 50% | 10%: Health score 84.0 ≥ 64.4 (0.9 × 71.5)\n',
    );
    expect(renderWatchLine(rolledBack, T0)).toMatch(/ \| rolled_back \| rollback \| \[░{10}\] 0% \| health 70\.0 \(baseline 71\.5\) \| Health score dropped/);
  });
});

describe('pieces', () => {
  it('progressBar clamps and rounds', () => {
    expect(progressBar(0, 4)).toBe('[░░░░]');
    expect(progressBar(0.5, 4)).toBe('[██░░]');
    expect(progressBar(2, 4)).toBe('[████]');
    expect(progressBar(Number.NaN, 4)).toBe('[░░░░]');
  });

  it('formatDuration', () => {
    expect([0, 400, 1000, 59_001, 60_000, 245_000, 3_600_000, 3_720_000].map(formatDuration)).toEqual(['0s', '1s', '1s', '1m 00s', '1m 00s', '4m 05s', '1h 00m', '1h 02m']);
  });

  it('currentHealth: the stage result, else its last sample, else the score before it', () => {
    expect(currentHealth(monitoring)).toBe(82.5);
    expect(currentHealth(completed)).toBe(86.1);
    expect(currentHealth({ ...monitoring, rollout_history: [stage(10, 1, 6, { status: 'in_progress', health_score_after: null, samples: [] })] })).toBe(71.5);
    expect(currentHealth(analysed)).toBe(71.5);
    expect(currentHealth(base)).toBeNull();
  });

  it('screenRows counts wrapped lines without the color codes; eraseRows goes back over them', () => {
    expect(screenRows('a\nb\n', 80)).toBe(2);
    expect(screenRows(`${'x'.repeat(100)}\nb\n`, 80)).toBe(3);
    expect(screenRows(`\x1b[1m${'x'.repeat(80)}\x1b[22m\n`, 80)).toBe(1);
    expect(screenRows('a\n', undefined)).toBe(1);
    expect(eraseRows(0)).toBe('');
    expect(eraseRows(5)).toBe('\r\x1b[5A\x1b[0J');
  });
});

describe('formatState and formatList', () => {
  it('status: settings, approval, analysis, plan, stages, result', () => {
    const text = formatState({ ...rolledBack, requires_approval: true, approved: true, approved_by: 'alice', approval_comment: 'ok' });
    expect(text).toMatch(/^rollout-1 {2}localhost:8000 \(vllm\)\n/);
    expect(text).toMatch(/status\s+rolled_back \(rollback\), stage 50%/);
    expect(text).toMatch(/settings\s+stages 10% -> 50% -> 100%, window 10 s, threshold 0\.9, auto rollout/);
    expect(text).toMatch(/approval\s+approved by alice: ok/);
    expect(text).toMatch(/bottlenecks\s+kv_cache_pressure \(preemptions_per_second 0\.8 vs 0\.1\)/);
    expect(text).toMatch(/plan\s+gpu_memory_utilization 0\.85 -> 0\.9 \(estimated 10-20%\)/);
    expect(text).toMatch(/error\s+Health score dropped below threshold \(70\.0 < 75\.6\), rolled back changes/);
    expect(text).toMatch(/^ {2}50%\s+failed\s+5\s+84\.0\s+70\.0\s+/m);
    expect(formatState(base)).not.toMatch(/Stages|undefined|null|NaN/);
    expect(formatState({ ...analysed, requires_approval: true, approved: false, rejected_by: 'bob', rejection_reason: null })).toMatch(/approval\s+rejected by bob\n/);
  });

  it('status: the improvement check\'s verdict, what it compared with, and whether it was required', () => {
    const improvement = { required: true, verdict: 'not_better' as const, comparison: 'baseline_replicas' as const, stage: '50%', metrics: [], reason: 'r' };
    expect(formatState({ ...rolledBack, improvement })).toMatch(/kept\?\s+not_better against the old-config replicas \(50% stage\); required\n/);
    expect(formatState({ ...completed, improvement: { ...improvement, required: false, comparison: 'pre_change_window', stage: '100%' } }))
      .toMatch(/kept\?\s+not_better against the window before the change \(100% stage\); not required \(require_improvement false\)\n/);
    expect(formatState(completed)).not.toMatch(/kept\?/);
  });

  it('summary: the last known status and scores, and why the live state is unavailable', () => {
    const text = formatSummary({
      ...rolloutSummary({ ...completed, status: 'rolling_out', current_step: 'monitor_stage', current_stage: '50%', final_health_score: null }),
      execution_status: 'RUNNING',
      summary_source: 'memo',
      live: false,
      live_unavailable_reason: 'No worker answered within 3 s',
    });
    expect(text).toMatch(/^rollout-1 {2}localhost:8000 \(vllm\)\n/);
    expect(text).toMatch(/status\s+rolling_out \(monitor_stage\), stage 50%; Temporal: RUNNING/);
    expect(text).toMatch(/health\s+current 86\.1 {2}baseline \d+\.\d {2}final n\/a/);
    expect(text).toMatch(/live\s+unavailable: No worker answered within 3 s\n$/);
  });

  it('list: a header and one row per rollout, or "no rollouts"', () => {
    expect(formatList([])).toBe('no rollouts\n');
    const row = (s: WorkflowState) => ({ ...rolloutSummary(s), execution_status: 'RUNNING', summary_source: 'memo' as const });
    const lines = formatList([row(completed), row(base)]).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^rollout-1\s+localhost:8000\s+vllm\s+completed\s+complete\s+100%\s+86\.1\s+2025-06-02T09:00:00\.000Z$/);
    expect(lines[2]).toMatch(/^rollout-1\s+localhost:8000\s+vllm\s+pending\s+pending\s+-\s+n\/a\s+/);
  });
});
