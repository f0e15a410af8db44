import { rolloutSummary, summaryChangeKey } from '../../../core/rolloutSummary';
import { initialState } from '../../../core/rolloutState';
import { RolloutRequestSchema, RolloutSummarySchema, type StageRecord, type WorkflowState } from '../../../models';

const req = RolloutRequestSchema.parse({ instance_id: 'localhost:8000', instance_type: 'vllm', requires_approval: true });
const base = (): WorkflowState => initialState('rollout-1', req, '2026-01-01T00:00:00.000Z');
const analysed = (score: number) => ({ overall_health_score: score }) as WorkflowState['analysis_result'];
const stage = (over: Partial<StageRecord>): StageRecord => ({
  stage: '10%',
  percentage: 10,
  status: 'in_progress',
  started_at: 'x',
  completed_at: null,
  health_score_before: 70,
  health_score_after: null,
  replicas: ['a'],
  samples: [],
  canary_judgement: null,
  decision: null,
  ...over,
});

describe('rollout summary (the memo a list row and a worker-less GET are built from)', () => {
  it('starts pending with the request and matches the published schema', () => {
    const s = rolloutSummary(base());
    expect(RolloutSummarySchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ workflow_id: 'rollout-1', instance_id: 'localhost:8000', instance_type: 'vllm', status: 'pending', requires_approval: true, health_score_baseline: null, health_score_current: null });
  });

  test.each<[string, Partial<WorkflowState>, { baseline: number | null; current: number | null }]>([
    ['no analysis yet', {}, { baseline: null, current: null }],
    ['analysed, no stage: current is the baseline', { analysis_result: analysed(70) }, { baseline: 70, current: 70 }],
    ['stage just opened: its score before', { analysis_result: analysed(70), rollout_history: [stage({})] }, { baseline: 70, current: 70 }],
    [
      'stage sampled: the last non-null sample',
      { analysis_result: analysed(70), rollout_history: [stage({ samples: [{ at: 'a', health_score: 66 }, { at: 'b', health_score: 64 }, { at: 'c', health_score: null }] })] },
      { baseline: 70, current: 64 },
    ],
    ['stage judged: its score after', { analysis_result: analysed(70), rollout_history: [stage({ health_score_after: 80, samples: [{ at: 'a', health_score: 66 }] })] }, { baseline: 70, current: 80 }],
    ['finished with nothing rolled out: the final score', { analysis_result: analysed(70), final_health_score: 71 }, { baseline: 70, current: 71 }],
  ])('%s', (_name, patch, want) => {
    const s = rolloutSummary({ ...base(), ...patch });
    expect([s.health_score_baseline, s.health_score_current]).toEqual([want.baseline, want.current]);
  });

  test.each<[string, Partial<WorkflowState>, boolean]>([
    ['the time alone', { updated_at: '2026-01-01T00:01:00.000Z' }, false],
    ['a new monitoring sample', { rollout_history: [stage({ samples: [{ at: 'a', health_score: 50 }] })] }, false],
    ['the status', { status: 'running' }, true],
    ['the step', { current_step: 'collect_metrics' }, true],
    ['the stage', { current_stage: '10%' }, true],
    ['the baseline', { analysis_result: analysed(70) }, true],
    ['the final score', { final_health_score: 90 }, true],
    ['the error', { error_message: 'boom' }, true],
  ])('a change of %s rewrites the memo: %s', (_name, patch, rewrites) => {
    const before = { ...base(), rollout_history: [stage({})] };
    const after = { ...before, ...patch };
    expect(summaryChangeKey(rolloutSummary(after)) !== summaryChangeKey(rolloutSummary(before))).toBe(rewrites);
  });
});
