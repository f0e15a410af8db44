import { describeRefusal, type Whereabouts } from '../../../core/rolloutWhereabouts';

const base: Whereabouts = { workflow_id: 'r1', status: 'awaiting_approval', current_step: 'await_approval', approved: null, approved_by: null, rejected_by: null };

describe('the 409 message says where the rollout is now', () => {
  it.each<[string, Partial<Whereabouts>, string, string]>([
    ['approved a moment ago, status not moved yet', { approved: true, approved_by: 'alice' }, 'awaiting approval', 'Rollout r1 was already approved by alice and is about to roll out, not awaiting approval'],
    ['approved anonymously', { approved: true }, 'awaiting approval', 'Rollout r1 was already approved by anonymous and is about to roll out, not awaiting approval'],
    ['rejected a moment ago', { approved: false, rejected_by: 'bob' }, 'awaiting approval', 'Rollout r1 was already rejected by bob and is about to end, not awaiting approval'],
    ['rejected anonymously', { approved: false }, 'awaiting approval', 'Rollout r1 was already rejected by anonymous and is about to end, not awaiting approval'],
    ['being aborted', { status: 'rolling_out', current_step: 'await_promotion', aborting_by: 'carol' }, 'awaiting promotion', 'Rollout r1 is being aborted by carol (rolling_out (await_promotion)), not awaiting promotion'],
    ['finished', { status: 'completed', current_step: 'complete', approved: true, approved_by: 'alice' }, 'awaiting approval', 'Rollout r1 is completed (complete), not awaiting approval'],
    ['still pending', { status: 'pending', current_step: 'pending' }, 'awaiting approval', 'Rollout r1 is pending (pending), not awaiting approval'],
  ])('%s', (_name, patch, wanted, message) => {
    expect(describeRefusal({ ...base, ...patch }, wanted)).toBe(message);
  });
});
