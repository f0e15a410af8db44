/**
 * Request validation: every malformed request is answered 4xx with the documented error body and
 * never reaches Temporal. The Temporal client here is a recording fake — the one place tests may
 * stand in for it, since nothing below the validation layer may run.
 */
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { ErrorBodySchema } from '../../models';
import { requestValidationClient } from '../helpers/requestValidationClient';

const { client: fakeClient, calls } = requestValidationClient();

const api = supertest(createApp(fakeClient, { taskQueue: 'validation' }));
const valid = { instance_id: 'localhost:8000', instance_type: 'vllm' };

beforeEach(() => {
  calls.length = 0;
});

function expectError(res: supertest.Response, status: number, code: string, field?: string) {
  expect(res.status).toBe(status);
  expect(ErrorBodySchema.parse(res.body)).toEqual(res.body);
  expect(res.body.error.code).toBe(code);
  if (field) expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  expect(calls).not.toContain('start');
}

describe('POST /api/v1/workflows rejects bad input with the offending field', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['missing instance_id', { instance_type: 'vllm' }, 'instance_id'],
    ['empty instance_id', { ...valid, instance_id: '  ' }, 'instance_id'],
    ['instance_id not a string', { ...valid, instance_id: 8000 }, 'instance_id'],
    ['missing instance_type', { instance_id: 'x:1' }, 'instance_type'],
    ['unknown engine', { ...valid, instance_type: 'triton' }, 'instance_type'],
    ['requires_approval not boolean', { ...valid, requires_approval: 'yes' }, 'requires_approval'],
    ['auto_rollout not boolean', { ...valid, auto_rollout: 1 }, 'auto_rollout'],
    ['require_improvement not boolean', { ...valid, require_improvement: 'no' }, 'require_improvement'],
    ['negative window', { ...valid, monitoring_duration_seconds: -5 }, 'monitoring_duration_seconds'],
    ['zero window', { ...valid, monitoring_duration_seconds: 0 }, 'monitoring_duration_seconds'],
    ['absurd window', { ...valid, monitoring_duration_seconds: 1e12 }, 'monitoring_duration_seconds'],
    ['window as string', { ...valid, monitoring_duration_seconds: '300' }, 'monitoring_duration_seconds'],
    ['threshold 0', { ...valid, health_threshold: 0 }, 'health_threshold'],
    ['threshold above 1', { ...valid, health_threshold: 1.5 }, 'health_threshold'],
    ['stages not increasing', { ...valid, stages: [50, 10, 100] }, 'stages'],
    ['stages not ending at 100', { ...valid, stages: [10, 50] }, 'stages'],
    ['stages empty', { ...valid, stages: [] }, 'stages'],
    ['stage above 100', { ...valid, stages: [10, 150] }, 'stages[1]'],
    ['stage of 0', { ...valid, stages: [0, 100] }, 'stages[0]'],
    ['stages not an array', { ...valid, stages: '10,50,100' }, 'stages'],
    ['duplicate stages', { ...valid, stages: [50, 50, 100] }, 'stages'],
    ['replicas empty', { ...valid, replicas: [] }, 'replicas'],
    ['replica not a string', { ...valid, replicas: ['a:1', 2] }, 'replicas[1]'],
    ['unknown field', { ...valid, canary_weight: 5 }, 'canary_weight'],
    ['approval timeout negative', { ...valid, approval_timeout_seconds: -1 }, 'approval_timeout_seconds'],
    ['SLO target of zero', { ...valid, slo: { ttft_p95_ms: 0 } }, 'slo.ttft_p95_ms'],
    ['SLO error rate above 1', { ...valid, slo: { error_rate: 2 } }, 'slo.error_rate'],
    ['unknown SLO field', { ...valid, slo: { tpot_ms: 20 } }, 'slo.tpot_ms'],
    ['plan_override without a reason', { ...valid, plan_override: { engine_args: { max_num_seqs: 8 } } }, 'plan_override.reason'],
    ['plan_override with no flag', { ...valid, plan_override: { engine_args: {}, reason: 'r' } }, 'plan_override.engine_args'],
    ['plan_override flag not snake_case', { ...valid, plan_override: { engine_args: { 'max-num-seqs': 8 }, reason: 'r' } }, 'plan_override.engine_args.max-num-seqs'],
    ['plan_override value an object', { ...valid, plan_override: { engine_args: { max_num_seqs: { n: 8 } }, reason: 'r' } }, 'plan_override.engine_args.max_num_seqs'],
  ])('%s', async (_name, body, field) => {
    expectError(await api.post('/api/v1/workflows').send(body), 400, 'invalid_request', field);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['tuning target above 100', { ...valid, target_health: 101 }, 'target_health'],
    ['tuning approval unknown', { ...valid, approval: 'sometimes' }, 'approval'],
    ['tuning budget of no iterations', { ...valid, budget: { max_iterations: 0 } }, 'budget.max_iterations'],
    ['tuning budget unknown field', { ...valid, budget: { max_gpus: 2 } }, 'budget.max_gpus'],
    ['tuning with a per-rollout field', { ...valid, requires_approval: true }, 'requires_approval'],
    ['tuning with an explicit plan', { ...valid, plan_override: { engine_args: { a: 1 }, reason: 'r' } }, 'plan_override'],
  ])('POST /api/v1/tunings: %s', async (_name, body, field) => {
    expectError(await api.post('/api/v1/tunings').send(body), 400, 'invalid_request', field);
  });

  it('names every offending field at once', async () => {
    const res = await api.post('/api/v1/workflows').send({ instance_type: 'x', health_threshold: 2 });
    expectError(res, 400, 'invalid_request');
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['health_threshold', 'instance_id', 'instance_type']);
  });

  it('a body that is not an object', async () => {
    expectError(await api.post('/api/v1/workflows').set('content-type', 'application/json').send('[1,2]'), 400, 'invalid_request', '(body)');
  });

  it('invalid JSON', async () => {
    expectError(await api.post('/api/v1/workflows').set('content-type', 'application/json').send('{"instance_id": '), 400, 'invalid_json', '(body)');
  });

  it('no body at all', async () => {
    expectError(await api.post('/api/v1/workflows'), 400, 'invalid_request');
  });

  it('an oversized body gets 413', async () => {
    const res = await api.post('/api/v1/workflows').send({ ...valid, replicas: Array.from({ length: 5000 }, (_, i) => `replica-${i}.example:8000`) });
    expectError(res, 413, 'payload_too_large');
  });
});

describe('other endpoints validate before calling Temporal', () => {
  it('approve with a wrongly typed field', async () => {
    expectError(await api.post('/api/v1/workflows/abc/approve').send({ approved_by: 42 }), 400, 'invalid_request', 'approved_by');
    expect(calls).toEqual([]);
  });

  it('reject with an unknown field', async () => {
    expectError(await api.post('/api/v1/workflows/abc/reject').send({ rejected_by: 'a', why: 'b' }), 400, 'invalid_request', 'why');
    expect(calls).toEqual([]);
  });

  it('list with an unknown status or a bad limit', async () => {
    expectError(await api.get('/api/v1/workflows?status=exploded'), 400, 'invalid_request', 'status');
    expectError(await api.get('/api/v1/workflows?limit=0'), 400, 'invalid_request', 'limit');
    expectError(await api.get('/api/v1/workflows?colour=red'), 400, 'invalid_request', 'colour');
    expect(calls).toEqual([]);
  });

  it('an unknown route is a 404 with the error body', async () => {
    expectError(await api.get('/api/v1/nothing-here'), 404, 'not_found');
  });
});
