import { closeOpenStages } from '../../../core/stageRecords';
import type { StageRecord } from '../../../models';

const record = (stage: string, status: StageRecord['status'], decision: string | null = null): StageRecord => ({
  stage,
  percentage: 10,
  status,
  started_at: '2026-12-02T00:00:00.000Z',
  completed_at: status === 'in_progress' ? null : '2026-12-02T00:01:00.000Z',
  health_score_before: 80,
  health_score_after: status === 'in_progress' ? null : 82,
  replicas: ['a'],
  samples: [],
  canary_judgement: null,
  decision,
});

describe('closing stage records when a rollout ends', () => {
  it('closes the stage still in progress as failed with the reason, and leaves closed stages as they were', () => {
    const history = [record('10%', 'success', 'gate passed'), record('50%', 'in_progress')];
    closeOpenStages(history, '2026-12-02T00:05:00.000Z', 'push failed, rolled back changes');
    expect(history[0]).toEqual(record('10%', 'success', 'gate passed'));
    expect(history[1]).toMatchObject({ status: 'failed', completed_at: '2026-12-02T00:05:00.000Z', decision: 'Stage interrupted: push failed, rolled back changes', health_score_after: null });
  });

  it('changes nothing when every stage is closed', () => {
    const history = [record('10%', 'success'), record('50%', 'failed', 'gate failed')];
    const before = structuredClone(history);
    closeOpenStages(history, '2026-12-02T00:05:00.000Z', 'whatever');
    expect(history).toEqual(before);
  });
});
