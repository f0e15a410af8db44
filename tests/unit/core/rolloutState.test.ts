import { describeImprovement, initialState, startedStage } from '../../../core/rolloutState';
import { RolloutRequestSchema, WorkflowStateSchema } from '../../../models';

describe('rollout state document', () => {
  const req = RolloutRequestSchema.parse({ instance_id: 'localhost:8000', instance_type: 'vllm' });

  it('starts pending with the request settings and matches the published schema', () => {
    const s = initialState('rollout-1', req, '2026-01-01T00:00:00.000Z');
    expect(WorkflowStateSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ status: 'pending', approved: null, stages: [10, 50, 100], monitoring_duration_seconds: 300, health_threshold: 0.9 });
  });

  it('opens a stage record in progress with the score it is judged against', () => {
    const r = startedStage({ label: '10%', percentage: 10, replicas: ['a'], added: ['a'], range: { from: 0, to: 1 }, addedRange: { from: 0, to: 1 } }, 75, 'now');
    expect(r).toMatchObject({ stage: '10%', status: 'in_progress', health_score_before: 75, health_score_after: null, replicas: ['a'] });
  });

  it('describes the measured improvement next to the estimate', () => {
    expect(describeImprovement(75, 90, '15-48%')).toBe('+20.0% health score (75.0 → 90.0); planner estimated 15-48%');
    expect(describeImprovement(80, 72, undefined)).toBe('-10.0% health score (80.0 → 72.0)');
    expect(describeImprovement(null, 72, undefined)).toBeNull();
  });
});
