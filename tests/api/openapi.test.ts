/**
 * The OpenAPI document: valid OpenAPI 3.1 (checked by @readme/openapi-parser), covering every route, and
 * describing what the gateway really answers: real answers of every endpoint, against a real Temporal
 * dev server, worker and simulator, validate (ajv, JSON Schema 2020-12) against the document's own
 * response schemas, with no field the document does not name.
 */
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { compileErrors, validate } from '@readme/openapi-parser';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { loadTokens, TokenStore } from '../../api/auth';
import { repairGeneratedSchemas } from '../../api/openapi';
import { ErrorBodySchema, WorkflowStateSchema } from '../../models';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(180_000);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Method = 'get' | 'post';

const COMPONENTS_ID = 'https://servetune.invalid/openapi/components.json';

/** The document's `#/components/schemas/X` refs, pointed at one ajv schema holding all components as `$defs`. */
function retarget(node: unknown, strict: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => retarget(n, strict));
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS_ID}#/$defs/`) : retarget(v, strict);
  }
  // Strict copy: an object schema naming its properties admits no other property, so an answer
  // carrying a field the document does not describe fails.
  const isObject = out.type === 'object' || (Array.isArray(out.type) && out.type.includes('object'));
  if (strict && isObject && out.properties && out.additionalProperties === undefined) out.unevaluatedProperties = false;
  return out;
}

class DocumentValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(readonly doc: Json) {
    addFormats(this.ajv);
    // OpenAPI's own schema keywords (annotations for a JSON Schema validator).
    this.ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: retarget(doc.components.schemas, true) });
  }

  operation(method: Method, path: string): Json {
    const op = this.doc.paths[path]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return op;
  }

  /** The schema the document gives for this answer; throws when the status is not documented. */
  responseSchema(method: Method, path: string, status: number): Json {
    const response = this.operation(method, path).responses[String(status)];
    if (!response) throw new Error(`${method.toUpperCase()} ${path} answered ${status}, which the document does not list`);
    const schema = response.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method.toUpperCase()} ${path} ${status} has no application/json schema`);
    return schema;
  }

  compile(schema: Json): ValidateFunction {
    const key = JSON.stringify(schema);
    let fn = this.cache.get(key);
    if (!fn) {
      fn = this.ajv.compile(retarget(schema, true) as Json);
      this.cache.set(key, fn);
    }
    return fn;
  }

  errors(schema: Json, value: unknown): string[] {
    const fn = this.compile(schema);
    return fn(value) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

let env: TestWorkflowEnvironment;
let stack: Stack;
let doc: Json;
let v: DocumentValidator;
/** Every (operation, status) a real answer was validated for. */
const checked = new Set<string>();

/** Validates a real answer against the document and records that it was seen. */
function conforms<T extends Answer>(res: T, method: Method, path: string, expectedStatus: number): T {
  expect({ status: res.status, body: res.body }).toMatchObject({ status: expectedStatus });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const problems = v.errors(v.responseSchema(method, path, res.status), res.body);
  if (problems.length > 0) throw new Error(`${method.toUpperCase()} ${path} ${res.status} does not match the document:\n${problems.join('\n')}\n${JSON.stringify(res.body).slice(0, 2000)}`);
  checked.add(`${method} ${path} ${res.status}`);
  return res;
}

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 3);
  const res = await stack.api.get('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
  v = new DocumentValidator(doc);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

describe('the document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.warnings).toEqual([]);
  });

  it('covers every route of the gateway, with the documented answers', () => {
    const ops = Object.entries(doc.paths as Json).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        'POST /api/v1/workflows',
        'GET /api/v1/workflows',
        'GET /api/v1/workflows/{id}',
        'POST /api/v1/workflows/{id}/approve',
        'POST /api/v1/workflows/{id}/reject',
        'POST /api/v1/workflows/{id}/promote',
        'POST /api/v1/workflows/{id}/abort',
        'POST /api/v1/tunings',
        'GET /api/v1/tunings/{id}',
        'POST /api/v1/tunings/{id}/stop',
        'GET /healthz',
        'GET /readyz',
        'GET /api/v1/openapi.json',
      ].sort(),
    );
    const statuses = (method: Method, path: string) => Object.keys(v.operation(method, path).responses).sort();
    expect(statuses('post', '/api/v1/workflows')).toEqual(['201', '400', '401', '403', '409', '413', '415', '500']);
    expect(statuses('get', '/api/v1/workflows')).toEqual(['200', '400', '401', '403', '500']);
    expect(statuses('get', '/api/v1/workflows/{id}')).toEqual(['200', '304', '400', '401', '403', '404', '500']);
    for (const action of ['approve', 'reject', 'promote', 'abort']) {
      expect(statuses('post', `/api/v1/workflows/{id}/${action}`)).toEqual(['200', '202', '400', '401', '403', '404', '409', '413', '415', '500', '503', '504']);
    }
    expect(statuses('get', '/readyz')).toEqual(['200', '503']);
    expect(statuses('post', '/api/v1/tunings')).toEqual(['201', '400', '401', '403', '409', '413', '415', '500']);
    expect(statuses('get', '/api/v1/tunings/{id}')).toEqual(['200', '400', '401', '403', '404', '500']);
    expect(statuses('post', '/api/v1/tunings/{id}/stop')).toEqual(['200', '400', '401', '403', '404', '409', '413', '415', '500']);
    // Every error answer is the one error body.
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        for (const [status, response] of Object.entries((op as Json).responses as Json)) {
          if (Number(status) >= 400) expect([path, method, status, response.content['application/json'].schema]).toEqual([path, method, status, { $ref: '#/components/schemas/ErrorBody' }]);
        }
      }
    }
  });

  it('reuses the models as components: nested shapes are references, nullable ones accept null', () => {
    const state = doc.components.schemas.WorkflowState;
    expect(state.properties.rollout_history).toEqual({ type: 'array', items: { $ref: '#/components/schemas/StageRecord' } });
    expect(state.properties.analysis_result).toEqual({ anyOf: [{ $ref: '#/components/schemas/AnalysisResult' }, { type: 'null' }] });
    expect(doc.components.schemas.WorkflowList.properties.workflows.items).toEqual({ $ref: '#/components/schemas/RolloutRow' });
    expect(doc.components.schemas.RolloutRead.anyOf).toEqual([{ $ref: '#/components/schemas/LiveState' }, { $ref: '#/components/schemas/SummaryState' }]);
    expect(doc.components.schemas.RolloutRequest).toMatchObject({ additionalProperties: false, required: ['instance_id', 'instance_type'] });
    expect(v.errors({ $ref: '#/components/schemas/WorkflowState' }, { analysis_result: null })).not.toContainEqual(expect.stringMatching(/analysis_result/));
  });

  it('repairs the generator\'s nullable references and enums (null passes) and tuples (length pinned)', () => {
    expect(repairGeneratedSchemas({ type: ['string', 'null'], enum: ['a', 'b'] })).toEqual({ type: ['string', 'null'], enum: ['a', 'b', null] });
    expect(repairGeneratedSchemas({ type: 'string', enum: ['a'] })).toEqual({ type: 'string', enum: ['a'] });
    expect(repairGeneratedSchemas({ allOf: [{ $ref: '#/x' }, { type: ['object', 'null'], description: 'd' }] })).toEqual({ description: 'd', anyOf: [{ $ref: '#/x' }, { type: 'null' }] });
    expect(repairGeneratedSchemas({ allOf: [{ $ref: '#/x' }, { description: 'd' }] })).toEqual({ allOf: [{ $ref: '#/x' }, { description: 'd' }] });
    expect(doc.components.schemas.Optimization.properties.expected_improvement_pct).toEqual({
      type: 'array',
      prefixItems: [{ type: 'number' }, { type: 'number' }],
      minItems: 2,
      maxItems: 2,
    });
  });

  it('has a bearer scheme, optional on /api/v1 and absent on the probes', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(v.operation('post', '/api/v1/workflows').security).toEqual([{ bearerAuth: ['start'] }, {}]);
    expect(v.operation('get', '/api/v1/workflows').security).toEqual([{ bearerAuth: ['read'] }, {}]);
    expect(v.operation('post', '/api/v1/workflows/{id}/approve').security).toEqual([{ bearerAuth: ['approve'] }, {}]);
    for (const path of ['/healthz', '/readyz', '/api/v1/openapi.json']) expect(v.operation('get', path).security).toEqual([]);
  });

  it('carries the README request and every example validates against its own schema', () => {
    const body = v.operation('post', '/api/v1/workflows').requestBody.content['application/json'];
    expect(body.examples.readme.value).toEqual({
      instance_id: 'localhost:8000',
      instance_type: 'vllm',
      requires_approval: false,
      auto_rollout: true,
      monitoring_duration_seconds: 10,
      health_threshold: 0.9,
    });
    let count = 0;
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const media = [op.requestBody?.content?.['application/json'], ...Object.values(op.responses as Json).map((r: Json) => r.content?.['application/json'])].filter(Boolean);
        for (const m of media) {
          for (const [name, example] of Object.entries((m.examples ?? {}) as Json)) {
            expect([path, method, name, v.errors(m.schema, example.value)]).toEqual([path, method, name, []]);
            if (m.schema.$ref === '#/components/schemas/WorkflowState') expect(WorkflowStateSchema.parse(example.value)).toEqual(example.value);
            if (m.schema.$ref === '#/components/schemas/ErrorBody') expect(ErrorBodySchema.parse(example.value)).toEqual(example.value);
            count++;
          }
        }
      }
    }
    expect(count).toBeGreaterThan(40);
  });

  it('a wrong answer does fail the strict check (the validator is not vacuous)', () => {
    const schema = v.responseSchema('get', '/api/v1/workflows/{id}', 200);
    const good = v.operation('get', '/api/v1/workflows/{id}').responses['200'].content['application/json'].examples.completed.value;
    expect(v.errors(schema, good)).toEqual([]);
    expect(v.errors(schema, { ...good, undocumented: 1 })).toContainEqual(expect.stringMatching(/unevaluated properties/));
    expect(v.errors(schema, { ...good, status: 'done' })).not.toEqual([]);
    expect(v.errors(schema, { ...good, rollout_history: [{ ...good.rollout_history[0], samples: [{ at: 'x' }] }] })).not.toEqual([]);
  });
});

describe('real answers of every endpoint match the document', () => {
  const post = (path: string, body?: unknown) => (body === undefined ? stack.api.post(path) : stack.api.post(path).send(body as object));

  it('probes and the document itself', async () => {
    conforms(await stack.api.get('/healthz'), 'get', '/healthz', 200);
    conforms(await stack.api.get('/readyz'), 'get', '/readyz', 200);
    conforms(await stack.api.get('/api/v1/openapi.json'), 'get', '/api/v1/openapi.json', 200);
    const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    conforms(await supertest(createApp(unreachable, { taskQueue: 'none' })).get('/readyz'), 'get', '/readyz', 503);
  });

  it('the approval lifecycle: start, get, list, approve, reject, and their errors', async () => {
    const W = '/api/v1/workflows';
    const deployment = stack.deployments[0];
    conforms(await post(W, { instance_id: deployment, instance_type: 'vllm', replica_count: 3 }), 'post', W, 400);
    conforms(await stack.api.post(W).set('Content-Type', 'application/json').send('{"instance_id": "x",}'), 'post', W, 400);
    conforms(await post(W, { instance_id: 'x'.repeat(70_000), instance_type: 'vllm' }), 'post', W, 413);
    conforms(await stack.api.post(W).set('Content-Type', 'application/json').set('Content-Encoding', 'bogus').send('{}'), 'post', W, 415);

    const started = conforms(await post(W, { instance_id: deployment, instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 }), 'post', W, 201);
    const id: string = (started.body as Json).workflow_id;
    await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
    const awaiting = conforms(await stack.api.get(`${W}/${id}`), 'get', `${W}/{id}`, 200);
    expect((awaiting.body as Json).analysis_result.health_components.length).toBeGreaterThan(0);
    conforms(await post(W, { instance_id: deployment, instance_type: 'vllm' }), 'post', W, 409);

    conforms(await stack.api.get(`${W}/rollout-does-not-exist`), 'get', `${W}/{id}`, 404);
    conforms(await stack.api.get(`${W}/${'x'.repeat(300)}`), 'get', `${W}/{id}`, 400);
    conforms(await stack.api.get(W).query({ instance_id: deployment, status: 'awaiting_approval' }), 'get', W, 200);
    conforms(await stack.api.get(W).query({ status: 'done' }), 'get', W, 400);
    conforms(await stack.api.get(W).query({ bogus: '1' }), 'get', W, 400);

    conforms(await post(`${W}/${id}/approve`, { approved_by: 'admin', extra: true }), 'post', `${W}/{id}/approve`, 400);
    conforms(await post(`${W}/${id}/approve`, { approved_by: 'admin', comment: 'x'.repeat(70_000) }), 'post', `${W}/{id}/approve`, 413);
    conforms(await post(`${W}/rollout-does-not-exist/approve`, {}), 'post', `${W}/{id}/approve`, 404);
    conforms(await post(`${W}/${id}/approve`, { approved_by: 'admin', comment: 'ok' }), 'post', `${W}/{id}/approve`, 200);
    conforms(await post(`${W}/${id}/approve`, { approved_by: 'admin' }), 'post', `${W}/{id}/approve`, 409);
    conforms(await post(`${W}/${id}/reject`, { rejected_by: 'late' }), 'post', `${W}/{id}/reject`, 409);
    conforms(await post(`${W}/rollout-does-not-exist/reject`), 'post', `${W}/{id}/reject`, 404);
    conforms(await post(`${W}/${id}/reject`, { because: 'x' }), 'post', `${W}/{id}/reject`, 400);

    const other = conforms(await post(W, { instance_id: stack.deployments[1], instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 }), 'post', W, 201);
    const otherId: string = (other.body as Json).workflow_id;
    await waitForState(stack, otherId, (s) => s.status === 'awaiting_approval');
    conforms(await post(`${W}/${otherId}/reject`, { rejected_by: 'admin', reason: 'change freeze' }), 'post', `${W}/{id}/reject`, 200);

    const done = await waitForState(stack, id, isTerminal);
    expect(done.status).toBe('completed');
    const final = conforms(await stack.api.get(`${W}/${id}`), 'get', `${W}/{id}`, 200);
    expect((final.body as Json).rollout_history.length).toBe(3);
    const list = conforms(await stack.api.get(W), 'get', W, 200);
    expect((list.body as Json).workflows.length).toBeGreaterThanOrEqual(2);
  });

  it('promote and abort, and their errors', async () => {
    const W = '/api/v1/workflows';
    const started = conforms(
      await post(W, { instance_id: stack.deployments[2], instance_type: 'vllm', auto_rollout: false, stages: [10, 50, 100], monitoring_duration_seconds: 1 }),
      'post',
      W,
      201,
    );
    const id: string = (started.body as Json).workflow_id;
    conforms(await post(`${W}/${id}/promote`, {}), 'post', `${W}/{id}/promote`, 409);
    conforms(await post(`${W}/${id}/promote`, { promoted_by: 'x', extra: 1 }), 'post', `${W}/{id}/promote`, 400);
    conforms(await post(`${W}/rollout-does-not-exist/promote`), 'post', `${W}/{id}/promote`, 404);
    await waitForState(stack, id, (s) => s.current_step === 'await_promotion');
    conforms(await post(`${W}/${id}/promote`, { promoted_by: 'oncall' }), 'post', `${W}/{id}/promote`, 200);
    conforms(await post(`${W}/${id}/abort`, { aborted_by: 'oncall', extra: 1 }), 'post', `${W}/{id}/abort`, 400);
    conforms(await post(`${W}/${id}/abort`, { aborted_by: 'oncall', reason: 'pager' }), 'post', `${W}/{id}/abort`, 200);
    const done = await waitForState(stack, id, isTerminal);
    expect(done.status).toBe('rolled_back');
    conforms(await stack.api.get(`${W}/${id}`), 'get', `${W}/{id}`, 200);
    conforms(await post(`${W}/${id}/abort`), 'post', `${W}/{id}/abort`, 409);
    conforms(await post(`${W}/rollout-does-not-exist/abort`), 'post', `${W}/{id}/abort`, 404);
  });

  it('a tuning run: start, a second start, get, stop, and their errors', async () => {
    const T = '/api/v1/tunings';
    const body = { instance_id: stack.deployments[2], instance_type: 'vllm', monitoring_duration_seconds: 1, stages: [50, 100], target_health: 99.9 };
    const started = conforms(await post(T, body), 'post', T, 201);
    const id: string = (started.body as Json).tuning_id;
    conforms(await post(T, body), 'post', T, 409);
    conforms(await post(T, { ...body, target_health: 0 }), 'post', T, 400);
    const deadline = Date.now() + 60_000;
    let state: Json = {};
    while (state.status !== 'running' && Date.now() < deadline) {
      state = conforms(await stack.api.get(`${T}/${id}`), 'get', `${T}/{id}`, 200).body as Json;
      await new Promise((r) => setTimeout(r, 200));
    }
    conforms(await post(`${T}/${id}/stop`, { stopped_by: 'oncall', extra: 1 }), 'post', `${T}/{id}/stop`, 400);
    conforms(await post(`${T}/${id}/stop`, { stopped_by: 'oncall', reason: 'enough' }), 'post', `${T}/{id}/stop`, 200);
    while (state.status === 'running' && Date.now() < deadline + 60_000) {
      state = conforms(await stack.api.get(`${T}/${id}`), 'get', `${T}/{id}`, 200).body as Json;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state.status).toBe('completed');
    conforms(await post(`${T}/${id}/stop`), 'post', `${T}/{id}/stop`, 409);
    conforms(await stack.api.get(`${T}/tuning-does-not-exist`), 'get', `${T}/{id}`, 404);
    conforms(await post(`${T}/tuning-does-not-exist/stop`), 'post', `${T}/{id}/stop`, 404);
    conforms(await stack.api.get(`${T}/${'x'.repeat(300)}`), 'get', `${T}/{id}`, 400);
  });

  it('401 and 403 with tokens configured; the document needs no token', async () => {
    const tokens = new TokenStore(loadTokens({ SERVETUNE_API_TOKENS: 'reader-token-0123456789:bob:read' }));
    const api = supertest(createApp(env.client, { taskQueue: stack.taskQueue, tokens }));
    const W = '/api/v1/workflows';
    conforms(await api.get('/api/v1/openapi.json'), 'get', '/api/v1/openapi.json', 200);
    conforms(await api.get(W), 'get', W, 401);
    conforms(await api.get(`${W}/x`), 'get', `${W}/{id}`, 401);
    conforms(await api.post(`${W}/x/approve`).send({}), 'post', `${W}/{id}/approve`, 401);
    conforms(await api.get(W).set('Authorization', 'Bearer reader-token-0123456789'), 'get', W, 200);
    conforms(await api.post(W).set('Authorization', 'Bearer reader-token-0123456789').send({ instance_id: 'a:1', instance_type: 'vllm' }), 'post', W, 403);
    conforms(await api.post(`${W}/x/reject`).set('Authorization', 'Bearer reader-token-0123456789').send({}), 'post', `${W}/{id}/reject`, 403);
  });

  it('saw a 2xx answer of every operation', () => {
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const method of Object.keys(item)) {
        const ok = [...checked].some((c) => c.startsWith(`${method} ${path} 2`));
        expect([method, path, ok]).toEqual([method, path, true]);
      }
    }
    expect(checked.size).toBeGreaterThanOrEqual(35);
  });
});
