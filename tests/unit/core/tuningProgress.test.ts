import { planFromOverride } from '../../../core/planOverride';
import { initialState } from '../../../core/rolloutState';
import { describeAwaitingApproval, describeEntry, isConstraint, restartsOf, scoreAfter, stopReason, unapprovedEnd, verdictOf, type Progress } from '../../../core/tuningProgress';
import { initialTuningState, iterationRequest, needsApproval } from '../../../core/tuningRun';
import { RolloutRequestSchema, TuningRequestSchema, type StageRecord, type WorkflowState } from '../../../models';

const request = RolloutRequestSchema.parse({ instance_id: 'localhost:30000', instance_type: 'sglang' });

function stage(replicas: string[], samples: number, after: number | null): StageRecord {
  return {
    stage: 's', percentage: 10, status: 'success', started_at: '', completed_at: '', health_score_before: 50, health_score_after: after,
    replicas, samples: Array.from({ length: samples }, () => ({ at: '', health_score: after })), canary_judgement: null, decision: null,
  };
}

function rollout(patch: Partial<WorkflowState>): WorkflowState {
  const plan = planFromOverride({ a: 1 }, { engine_args: { a: 2 }, reason: 'r' }, 'rev');
  return { ...initialState('rollout-1', request, ''), optimization_plan: plan, ...patch };
}

describe('verdictOf: the rollout\'s own terminal status decides', () => {
  it.each([
    [{ status: 'completed' as const }, 'kept'],
    [{ status: 'completed' as const, optimization_plan: planFromOverride({ a: 2 }, { engine_args: { a: 2 }, reason: 'r' }, 'rev') }, 'no_change'],
    [{ status: 'rolled_back' as const, rollout_history: [stage(['r0'], 3, 40)] }, 'reverted'],
    [{ status: 'rolled_back' as const, rollout_history: [stage(['r0'], 0, null)] }, 'refused'],
    [{ status: 'rejected' as const }, 'rejected'],
    [{ status: 'failed' as const }, 'failed'],
  ])('%j → %s', (patch, verdict) => {
    expect(verdictOf(rollout(patch))).toBe(verdict);
  });

  it('remembers reverted, refused and rejected configurations as constraints, nothing else', () => {
    expect(['kept', 'reverted', 'refused', 'rejected', 'approval_timeout', 'no_change', 'failed'].filter((v) => isConstraint(v as never))).toEqual(['reverted', 'refused', 'rejected']);
  });
});

describe('unapprovedEnd: why a rollout ended rejected before any change', () => {
  it.each([
    // The rollout's approval timeout: approved false, and no one named.
    [{ status: 'rejected' as const, approved: false, rejected_by: null }, 'approval_timeout'],
    [{ status: 'rejected' as const, approved: false, rejected_by: 'oncall' }, 'rejected'],
    // An abort while it waited (or during its baseline) leaves approved unset.
    [{ status: 'rejected' as const, approved: null, rejected_by: null }, 'rejected'],
    [{ status: 'completed' as const, approved: true }, null],
    [{ status: 'rolled_back' as const, approved: true }, null],
    [{ status: 'failed' as const }, null],
  ])('%j → %s', (patch, end) => {
    expect(unapprovedEnd(rollout(patch))).toBe(end);
  });

  it('an approval timeout is not a constraint: no one judged the step', () => {
    expect(isConstraint('approval_timeout')).toBe(false);
  });

  it('names the rollout to answer, its deadline, and the three ways to answer it', () => {
    const line = describeAwaitingApproval({ iteration: 2, rollout_id: 'rollout-9', since: 't0', until: '2026-12-03T09:00:00.000Z' });
    expect(line).toContain('awaiting approval: iteration 2, rollout rollout-9 until 2026-12-03T09:00:00.000Z');
    expect(line).toContain('npx servetune approve|reject rollout-9');
    expect(line).toContain('POST /api/v1/workflows/rollout-9/approve|reject');
    expect(line).toContain('temporal workflow update execute --workflow-id rollout-9 --name approve|reject');
  });
});

describe('scores and restarts', () => {
  it('a kept rollout is scored by its final score, any other by its last measured stage', () => {
    expect(scoreAfter(rollout({ status: 'completed', final_health_score: 81 }))).toBe(81);
    expect(scoreAfter(rollout({ status: 'rolled_back', rollout_history: [stage(['r0'], 2, 55), stage(['r0', 'r1'], 0, null)] }))).toBe(55);
    expect(scoreAfter(rollout({ status: 'rolled_back' }))).toBeNull();
  });

  it('counts each replica pushed once, and twice when a rollback put it back', () => {
    const history = [stage(['r0'], 1, 1), stage(['r0', 'r1', 'r2'], 1, 1)];
    expect(restartsOf(rollout({ status: 'completed', rollout_history: history }))).toBe(3);
    expect(restartsOf(rollout({ status: 'rolled_back', rollout_history: history }))).toBe(6);
  });
});

describe('stopReason', () => {
  const base: Progress = {
    score: 50, target: 80, iterations: 2, restarts: 20, elapsedSeconds: 60, stopRequested: false, lastVerdict: 'kept',
    budget: { max_iterations: 8, max_wall_seconds: 3600, max_restarts: 100 },
  };
  it.each([
    [{}, null],
    [{ score: 80 }, 'slo_met'],
    [{ score: 85, stopRequested: true }, 'slo_met'],
    [{ stopRequested: true }, 'stopped'],
    [{ lastVerdict: 'failed' as const }, 'rollout_failed'],
    [{ iterations: 8 }, 'budget_iterations'],
    [{ restarts: 100 }, 'budget_restarts'],
    [{ elapsedSeconds: 3600 }, 'budget_wall_time'],
    [{ score: null }, null],
  ])('%j → %s', (patch, reason) => {
    expect(stopReason({ ...base, ...patch })).toBe(reason);
  });
});

describe('iterations', () => {
  const tuning = TuningRequestSchema.parse({ instance_id: 'localhost:30000', instance_type: 'sglang', approval: 'first', monitoring_duration_seconds: 2 });
  it('approval: each, only the first, or none', () => {
    expect([1, 2].map((i) => needsApproval('each', i))).toEqual([true, true]);
    expect([1, 2].map((i) => needsApproval('first', i))).toEqual([true, false]);
    expect([1, 2].map((i) => needsApproval('none', i))).toEqual([false, false]);
  });

  it('each iteration\'s rollout is a valid request carrying the candidate as its explicit plan', () => {
    const req = iterationRequest(tuning, 2, { source: 'search', changes: [{ flag: 'mem_fraction_static', from: 0.88, to: 0.93 }], evidence: 'why' });
    expect(RolloutRequestSchema.parse(req)).toEqual(req);
    expect(req).toMatchObject({ requires_approval: false, monitoring_duration_seconds: 2, plan_override: { engine_args: { mem_fraction_static: 0.93 } } });
    expect(req.plan_override?.reason).toBe('tuning iteration 2: why');
  });

  it('each iteration\'s rollout requires an improvement unless the run says otherwise, so "kept" means "measurably helped"', () => {
    const candidate = { source: 'search' as const, changes: [{ flag: 'mem_fraction_static', from: 0.88, to: 0.93 }], evidence: 'why' };
    expect(iterationRequest(tuning, 1, candidate).require_improvement).toBe(true);
    const lenient = TuningRequestSchema.parse({ instance_id: 'localhost:30000', instance_type: 'sglang', require_improvement: false });
    expect(iterationRequest(lenient, 1, candidate).require_improvement).toBe(false);
  });

  it('a new run starts pending with its goal and budget, defaults applied', () => {
    const s = initialTuningState('tuning-1', tuning, 'ops', 'now');
    expect(s).toMatchObject({ status: 'pending', target_health: 80, budget: { max_iterations: 8 }, decision_log: [], constraints: [], awaiting_approval: null });
  });

  it('describes a log entry in one line', () => {
    expect(
      describeEntry({ iteration: 3, rollout_id: 'r', source: 'rules', changes: [{ flag: 'a', from: 1, to: 2 }], evidence: '', verdict: 'kept', score_before: 16.9, score_after: 22.2, restarts: 10, message: null, at: '' }),
    ).toBe('#3 rules: a 1→2 → kept (16.9 → 22.2)');
  });
});

describe('planFromOverride', () => {
  it('changes only the flags whose value differs, and records the reason', () => {
    const plan = planFromOverride({ a: 1, b: true }, { engine_args: { a: 2, b: true, c: 'x' }, reason: 'try it' }, 'rev-1');
    expect(plan.optimizations.map((o) => [o.parameter, o.current, o.proposed, o.reason])).toEqual([
      ['a', 1, 2, 'try it'],
      ['c', null, 'x', 'try it'],
    ]);
    expect(plan.engine_args).toEqual({ a: 2, b: true, c: 'x' });
    expect(plan.revision).toBe('rev-1');
  });
});
