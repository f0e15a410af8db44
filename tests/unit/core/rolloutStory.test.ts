import {
  guardDetails,
  guardStaticDetails,
  guardStaticSummary,
  healthAgainstGate,
  lastDecision,
  rolloutCurrentDetails,
  rolloutStaticDetails,
  rolloutStaticSummary,
} from '../../../core/rolloutStory';
import { initialState } from '../../../core/rolloutState';
import { RolloutRequestSchema, type OptimizationPlan, type StageRecord, type WorkflowState } from '../../../models';

const req = RolloutRequestSchema.parse({ instance_id: 'localhost:8000', instance_type: 'vllm', monitoring_duration_seconds: 60 });
const T0 = '2026-01-01T00:00:00.000Z';
const replicas = Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}:8000`);

const plan: OptimizationPlan = {
  optimizations: [
    {
      parameter: 'max_num_seqs',
      current: 256,
      proposed: 512,
      reason: 'queue',
      addresses: 'queueing',
      expected_improvement_pct: [10, 20],
      source: 'vllm docs',
    },
  ],
  estimated_total_improvement: '10-20%',
  engine_args: { max_num_seqs: 512 },
  revision: 'servetune-rollout-1',
};

function stage(label: string, percentage: number, count: number, patch: Partial<StageRecord> = {}): StageRecord {
  return {
    stage: label,
    percentage,
    status: 'in_progress',
    started_at: '2026-01-01T00:01:00.000Z',
    completed_at: null,
    health_score_before: 84.2,
    health_score_after: null,
    replicas: replicas.slice(0, count),
    samples: [],
    canary_judgement: null,
    decision: null,
    ...patch,
  };
}

function state(patch: Partial<WorkflowState>): WorkflowState {
  return { ...initialState('rollout-1', req, T0), replicas, ...patch };
}

describe('static summary and details, set at start', () => {
  it.each([
    [{}, 'rollout localhost:8000 (vllm) · stages 10% → 50% → 100% · no approval, auto promote'],
    [{ requires_approval: true, auto_rollout: false, stages: [25, 100] }, 'rollout localhost:8000 (vllm) · stages 25% → 100% · approval required, manual promote'],
  ])('%j → %s', (patch, expected) => {
    expect(rolloutStaticSummary({ ...req, ...patch })).toBe(expected);
  });

  it('a summary stays within 200 bytes however long the deployment address', () => {
    const long = { ...req, instance_id: `${'a'.repeat(500)}:8000` };
    expect(Buffer.byteLength(rolloutStaticSummary(long), 'utf8')).toBeLessThanOrEqual(200);
    expect(Buffer.byteLength(guardStaticSummary(long.instance_id), 'utf8')).toBeLessThanOrEqual(200);
  });

  it('details spell out the request and who started it', () => {
    const details = rolloutStaticDetails(req, 'alice');
    expect(details).toContain('- **monitoring window**: 60 s per stage');
    expect(details).toContain('- **gate**: stage health ≥ 0.9 × health before the stage');
    expect(details).toContain('- **started by**: alice');
  });

  it('a guard says it is one and which rollout holds the claim', () => {
    expect(guardStaticSummary('localhost:8000')).toBe('deployment guard for localhost:8000');
    expect(guardStaticDetails('localhost:8000', 'rollout-1')).toMatch(/^Deployment guard: claims \*\*localhost:8000\*\* for rollout \*\*rollout-1\*\*/);
    expect(guardDetails('localhost:8000', 'rollout-1', false)).toMatch(/^Deployment guard: holds the claim on \*\*localhost:8000\*\* for rollout \*\*rollout-1\*\*/);
    expect(guardDetails('localhost:8000', 'rollout-1', true)).toMatch(/held the claim .* rollout \*\*rollout-1\*\*[^]*deployment is free/);
  });
});

describe('health against the gate', () => {
  it.each<[string, Partial<StageRecord>, string]>([
    ['latest sample above the gate', { samples: [{ at: T0, health_score: 70 }, { at: T0, health_score: 81.2 }] }, '81.2 ≥ gate 75.8 (0.9 × 84.2)'],
    ['latest sample below it', { samples: [{ at: T0, health_score: 31.4 }] }, '31.4 < gate 75.8 (0.9 × 84.2)'],
    ['no sample yet', {}, 'no sample yet · gate 75.8 (0.9 × 84.2)'],
    ['a sample without data', { samples: [{ at: T0, health_score: null }] }, 'no health data · gate 75.8 (0.9 × 84.2)'],
    ['no baseline', { health_score_before: null }, 'no baseline health score: the gate cannot pass'],
  ])('%s', (_label, patch, expected) => {
    expect(healthAgainstGate(stage('50%', 50, 5, patch), 0.9)).toBe(expected);
  });
});

describe('the last decision', () => {
  it.each<[string, Partial<WorkflowState>, string | null]>([
    ['nothing decided yet', {}, null],
    [
      'an approval',
      { audit: [{ action: 'approve', actor: 'alice', channel: 'rest', at: '2026-01-01T00:00:30.000Z', detail: 'ok' }] },
      'approved by alice (rest): ok',
    ],
    [
      'a stage gate after the approval',
      {
        audit: [{ action: 'approve', actor: 'alice', channel: 'rest', at: '2026-01-01T00:00:30.000Z', detail: null }],
        rollout_history: [stage('10%', 10, 1, { status: 'success', completed_at: '2026-01-01T00:02:00.000Z', decision: 'Health score 90.0 ≥ 75.8' })],
      },
      'stage 10% passed: Health score 90.0 ≥ 75.8',
    ],
    [
      'an abort after a stage passed',
      {
        audit: [{ action: 'abort', actor: 'oncall', channel: 'temporal', at: '2026-01-01T00:03:00.000Z', detail: 'pager' }],
        rollout_history: [stage('10%', 10, 1, { status: 'success', completed_at: '2026-01-01T00:02:00.000Z', decision: 'passed' })],
      },
      'aborted by oncall (temporal): pager',
    ],
  ])('%s', (_label, patch, expected) => {
    expect(lastDecision(state(patch))).toBe(expected);
  });
});

describe('current details, rewritten at every step', () => {
  const monitoring = state({
    status: 'rolling_out',
    current_step: 'monitor_stage',
    current_stage: '50%',
    optimization_plan: plan,
    rollout_history: [
      stage('10%', 10, 1, { status: 'success', completed_at: '2026-01-01T00:02:00.000Z', decision: 'Health score 90.0 ≥ 75.8 (0.9 × 84.2)' }),
      stage('50%', 50, 5, { samples: [{ at: T0, health_score: 81.2 }] }),
    ],
  });

  it.each<[string, WorkflowState, string | null, string[], string[]]>([
    ['just started', state({}), null, ['**Pending**: pending', '- **status**: pending · step pending'], ['**stage**', '**planned change**']],
    [
      'monitoring stage 2 of 3',
      monitoring,
      '2026-01-01T00:04:00.000Z',
      [
        '**Rolling out**: monitor stage',
        '- **stage**: 2 of 3 (50%, 5 of 10 replicas) — in progress',
        '- **health**: 81.2 ≥ gate 75.8 (0.9 × 84.2)',
        '- **monitoring window ends**: 2026-01-01T00:04:00.000Z',
        '- **last decision**: stage 10% passed: Health score 90.0 ≥ 75.8 (0.9 × 84.2)',
        '- **planned change**: `max_num_seqs` 256 → 512 (revision servetune-rollout-1; estimated 10-20%)',
      ],
      [],
    ],
    [
      'rolled back: the reason comes first',
      {
        ...monitoring,
        status: 'rolled_back',
        current_step: 'complete',
        error_message: 'Health score dropped below threshold (31.4 < 75.8), rolled back changes',
        rollout_history: [stage('50%', 50, 5, { status: 'failed', completed_at: '2026-01-01T00:05:00.000Z', samples: [{ at: T0, health_score: 31.4 }], decision: 'Health score dropped below threshold (31.4 < 75.8)' })],
      },
      '2026-01-01T00:04:00.000Z',
      ['**Rolled back**: Health score dropped below threshold (31.4 < 75.8), rolled back changes', '- **health**: 31.4 < gate 75.8 (0.9 × 84.2)', '- **last decision**: stage 50% failed'],
      ['window ends'],
    ],
    [
      'completed with the measured improvement',
      { ...monitoring, status: 'completed', current_step: 'complete', final_health_score: 90.1, total_improvement: '+7.0% health score (84.2 → 90.1)' },
      null,
      ['**Completed**: +7.0% health score (84.2 → 90.1) (final health 90.1)'],
      ['window ends'],
    ],
    [
      'measured, before any stage',
      state({ status: 'running', current_step: 'generate_optimizations', analysis_result: { overall_health_score: 84.2 } as WorkflowState['analysis_result'] }),
      null,
      ['**Measuring and planning**: generate optimizations', '- **health before any change**: 84.2'],
      ['**stage**', '**planned change**'],
    ],
    [
      'measured without data',
      state({ status: 'running', current_step: 'generate_optimizations', analysis_result: { overall_health_score: null } as unknown as WorkflowState['analysis_result'] }),
      null,
      ['**Measuring and planning**: generate optimizations', '- **health before any change**: no data'],
      [],
    ],
    [
      'planned, nothing to change',
      {
        ...state({}),
        status: 'completed',
        current_step: 'complete',
        optimization_plan: { ...plan, optimizations: [] },
        total_improvement: 'No bottleneck the planner can address; nothing rolled out',
      },
      null,
      ['**Completed**: No bottleneck the planner can address; nothing rolled out', '- **planned change**: nothing to change'],
      ['**stage**'],
    ],
  ])('%s', (_label, s, monitorEndsAt, present, absent) => {
    const details = rolloutCurrentDetails(s, { monitorEndsAt });
    const first = details.split('\n')[0];
    expect(first).toBe(present[0]);
    for (const text of present) expect(details).toContain(text);
    for (const text of absent) expect(details).not.toContain(text);
  });
});
