/**
 * The gateway's OpenAPI 3.1 document, generated from the zod schemas of models/ (one schema per
 * external shape: nothing here redefines a shape the gateway already validates or answers with).
 * Served at `GET /api/v1/openapi.json`; tests/api/openapi.test.ts validates the document and checks
 * real answers of every endpoint against it.
 */
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import {
  AbortSchema,
  AnalysisResultSchema,
  ApproveSchema,
  AuditEntrySchema,
  BottleneckSchema,
  CanaryDecisionSchema,
  CanaryJudgementSchema,
  EngineArgsSchema,
  EngineTypeSchema,
  ErrorBodySchema,
  HealthComponentSchema,
  HealthSampleSchema,
  OptimizationPlanSchema,
  OptimizationSchema,
  PromoteSchema,
  RejectSchema,
  RolloutRequestSchema,
  SnapshotSchema,
  StageRecordSchema,
  StepSchema,
  StopTuningSchema,
  DecisionLogEntrySchema,
  FlagChangeSchema,
  TuningBudgetSchema,
  TuningConstraintSchema,
  TuningRequestSchema,
  TuningStateSchema,
  LiveStateSchema,
  RolloutReadSchema,
  RolloutRowSchema,
  RolloutSummarySchema,
  SummaryStateSchema,
  WorkflowListSchema,
  WorkflowStateSchema,
  WorkflowStatusSchema,
  type ErrorBody,
  type RolloutRequestInput,
  type RolloutRow,
  type SummaryState,
  type TuningState,
  type WorkflowState,
} from '../models';
import { initialTuningState } from '../core/tuningRun';
import { rolloutSummary } from '../core/rolloutSummary';
import { version } from '../package.json';

// Adds `.openapi()` to every zod schema (a prototype patch, so the models' existing instances get it too).
extendZodWithOpenApi(z);

export const OPENAPI_PATH = '/api/v1/openapi.json';

/** The gateway's own schemas that are not in models/ (they belong to its routes). */
export interface OpenApiInputs {
  /** Query string of `GET /api/v1/workflows`. */
  listQuery: z.AnyZodObject;
  /** The `{id}` path parameter. */
  workflowId: z.ZodTypeAny;
}

/** `GET /healthz` and `GET /readyz` bodies: written inline by their handlers, so they are described here. */
const HealthzSchema = z.object({ status: z.literal('ok') });
const ReadyzSchema = z.object({
  status: z.enum(['ready', 'degraded']).openapi({ description: '`degraded`: Temporal answers but no worker polls the task queue (reads still work; rollouts do not move).' }),
  temporal: z.literal('reachable'),
  workers: z.object({
    polling: z.boolean().nullable().openapi({ description: 'Whether a worker polled the task queue within the last 90 s; null when Temporal could not be asked.' }),
    pollers: z.number().int().openapi({ description: 'Workflow-task pollers seen within that window.' }),
    checked_at: z.string().openapi({ description: 'When Temporal was asked (the answer is reused for 5 s).' }),
  }),
});

// ---------------------------------------------------------------------------------------------
// Examples (typed, so they cannot drift from the models; the test also validates them against the document)

/** The no-approval request of docs/api.md: 10-second windows. */
const REQUEST_EXAMPLE: RolloutRequestInput = {
  instance_id: 'localhost:8000',
  instance_type: 'vllm',
  requires_approval: false,
  auto_rollout: true,
  monitoring_duration_seconds: 10,
  health_threshold: 0.9,
};

const REPLICAS = Array.from({ length: 10 }, (_, i) => `127.0.0.1:${8100 + i}`);
const ID = 'rollout-3f0c9a52-6d1e-4b7a-9c2f-1e8d7b6a5c40';

const PENDING_EXAMPLE: WorkflowState = {
  workflow_id: ID,
  instance_id: 'localhost:8000',
  instance_type: 'vllm',
  status: 'pending',
  current_step: 'pending',
  current_stage: null,
  created_at: '2025-06-02T09:00:00.000Z',
  updated_at: '2025-06-02T09:00:00.000Z',
  analysis_result: null,
  optimization_plan: null,
  requires_approval: false,
  auto_rollout: true,
  approved: null,
  approved_by: null,
  approval_comment: null,
  rejected_by: null,
  rejection_reason: null,
  monitoring_duration_seconds: 10,
  health_threshold: 0.9,
  stages: [10, 50, 100],
  replicas: [],
  rollout_history: [],
  final_health_score: null,
  total_improvement: null,
  error_message: null,
  audit: [{ action: 'start', actor: 'anonymous', channel: 'rest', at: '2025-06-02T09:00:00.000Z', detail: null }],
};

const ANALYSIS_EXAMPLE: NonNullable<WorkflowState['analysis_result']> = {
  bottlenecks: [
    {
      kind: 'kv_cache_pressure',
      metric: 'preemptions_per_second',
      value: 0.8,
      threshold: 0.1,
      description: 'Requests are preempted for lack of KV-cache blocks',
    },
  ],
  overall_health_score: 71.5,
  health_components: [
    { name: 'time to first token', metric: 'ttft_p95_ms', value: 910, target: 500, weight: 0.3, score: 54.9 },
    { name: 'inter-token latency', metric: 'itl_p95_ms', value: 48, target: 50, weight: 0.25, score: 100 },
    { name: 'end-to-end latency', metric: 'e2e_p95_ms', value: 21000, target: 15000, weight: 0.2, score: 71.4 },
    { name: 'errors', metric: 'error_rate', value: 0.004, target: 0.01, weight: 0.25, score: 100 },
  ],
  metrics: {
    window_seconds: 5,
    replicas: 10,
    request_rate: 42.1,
    requests_running: 180,
    requests_waiting: 37,
    kv_cache_usage: 0.97,
    preemptions_per_second: 0.8,
    prefix_cache_hit_rate: null,
    ttft_p50_ms: 320,
    ttft_p95_ms: 910,
    ttft_p99_ms: 1400,
    itl_p50_ms: 31,
    itl_p95_ms: 48,
    e2e_p95_ms: 21000,
    generation_tokens_per_second: 5400,
    error_rate: 0.004,
  },
};

const stage = (label: string, percentage: number, count: number, start: number, before: number, after: number, decision: string) => ({
  stage: label,
  percentage,
  status: 'success' as const,
  started_at: `2025-06-02T09:00:${String(start).padStart(2, '0')}.000Z`,
  completed_at: `2025-06-02T09:00:${String(start + 11).padStart(2, '0')}.000Z`,
  health_score_before: before,
  health_score_after: after,
  replicas: REPLICAS.slice(0, count),
  samples: [{ at: `2025-06-02T09:00:${String(start + 11).padStart(2, '0')}.000Z`, health_score: after }],
  canary_judgement: null,
  decision,
});

/** That request's rollout after about 40 s: three passed stages. */
const COMPLETED_EXAMPLE: WorkflowState = {
  ...PENDING_EXAMPLE,
  status: 'completed',
  current_step: 'complete',
  current_stage: '100%',
  updated_at: '2025-06-02T09:00:43.000Z',
  analysis_result: ANALYSIS_EXAMPLE,
  optimization_plan: {
    optimizations: [
      {
        parameter: 'gpu_memory_utilization',
        current: 0.85,
        proposed: 0.9,
        reason: 'KV-cache preemptions: give the cache more GPU memory',
        addresses: 'kv_cache_pressure',
        expected_improvement_pct: [10, 20],
        source: 'vLLM docs, Optimization and Tuning, section "Preemption"',
      },
    ],
    estimated_total_improvement: '10-20%',
    engine_args: { gpu_memory_utilization: 0.9, max_num_seqs: 256, enable_prefix_caching: false },
    revision: `servetune-${ID}`,
  },
  replicas: REPLICAS,
  rollout_history: [
    stage('10%', 10, 1, 6, 71.5, 84.0, 'Health score 84.0 ≥ 64.4 (0.9 × 71.5)'),
    stage('50%', 50, 5, 18, 84.0, 85.2, 'Health score 85.2 ≥ 75.6 (0.9 × 84.0)'),
    stage('100%', 100, 10, 30, 85.2, 86.1, 'Health score 86.1 ≥ 76.7 (0.9 × 85.2)'),
  ],
  final_health_score: 86.1,
  total_improvement: '+20.4% health score (71.5 → 86.1); planner estimated 10-20%',
};

/** DESIGN.md's rollback: the 50% stage failed its gate and every changed replica went back. */
const ROLLED_BACK_EXAMPLE: WorkflowState = {
  ...COMPLETED_EXAMPLE,
  status: 'rolled_back',
  current_step: 'rollback',
  current_stage: '50%',
  rollout_history: [
    COMPLETED_EXAMPLE.rollout_history[0],
    {
      ...COMPLETED_EXAMPLE.rollout_history[1],
      status: 'failed',
      health_score_after: 70.0,
      samples: [{ at: '2025-06-02T09:00:29.000Z', health_score: 70.0 }],
      decision: 'Health score dropped below threshold (70.0 < 75.6)',
    },
  ],
  final_health_score: 70.0,
  total_improvement: null,
  error_message: 'Health score dropped below threshold (70.0 < 75.6), rolled back changes',
};

const AWAITING_EXAMPLE: WorkflowState = {
  ...COMPLETED_EXAMPLE,
  status: 'awaiting_approval',
  current_step: 'await_approval',
  current_stage: null,
  requires_approval: true,
  rollout_history: [],
  final_health_score: null,
  total_improvement: null,
};

const APPROVED_EXAMPLE: WorkflowState = {
  ...AWAITING_EXAMPLE,
  status: 'rolling_out',
  current_step: 'rollout_stage',
  current_stage: '10%',
  approved: true,
  approved_by: 'admin',
  approval_comment: 'ok',
  audit: [...PENDING_EXAMPLE.audit, { action: 'approve', actor: 'admin', channel: 'rest', at: '2025-06-02T09:01:00.000Z', detail: 'ok' }],
};

const REJECTED_EXAMPLE: WorkflowState = {
  ...AWAITING_EXAMPLE,
  status: 'rejected',
  current_step: 'complete',
  approved: false,
  rejected_by: 'admin',
  rejection_reason: 'change freeze',
  audit: [...PENDING_EXAMPLE.audit, { action: 'reject', actor: 'admin', channel: 'rest', at: '2025-06-02T09:01:00.000Z', detail: 'change freeze' }],
};

const TUNING_EXAMPLE: TuningState = {
  ...initialTuningState('tuning-3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', TuningRequestSchema.parse({ instance_id: 'localhost:30000', instance_type: 'sglang' }), 'admin', '2025-06-02T09:00:00.000Z'),
  status: 'running',
  iterations: 1,
  restarts_spent: 10,
  current_rollout_id: ID,
  current_args: { mem_fraction_static: 0.88, enable_mixed_chunk: true },
  current_score: 84.2,
  initial_score: 66.8,
  best_score: 84.2,
  decision_log: [
    {
      iteration: 1,
      rollout_id: 'rollout-0b6e1f0e-2d43-4c6f-8f0a-5d1e2c3b4a59',
      source: 'rules',
      changes: [{ flag: 'enable_mixed_chunk', from: null, to: true }],
      evidence: 'rules for high_ttft (ttft_p95_ms 967 > 500)',
      verdict: 'kept',
      score_before: 66.8,
      score_after: 84.2,
      restarts: 10,
      message: '+26.0% health score (66.8 → 84.2)',
      at: '2025-06-02T09:01:00.000Z',
    },
  ],
};

const err = (code: string, message: string, details: ErrorBody['error']['details'] = []): ErrorBody => ({ error: { code, message, details } });

const ERROR_EXAMPLES = {
  invalid_request: err('invalid_request', 'Invalid request body: health_threshold, replica_count', [
    { field: 'health_threshold', message: 'Number must be less than or equal to 1' },
    { field: 'replica_count', message: 'unknown field' },
  ]),
  invalid_json: err('invalid_json', 'Request body is not valid JSON: Unexpected token } in JSON at position 25', [{ field: '(body)', message: 'invalid JSON' }]),
  invalid_query: err('invalid_request', 'Invalid query string: status', [{ field: 'status', message: "Invalid enum value. Expected 'pending' | 'running' | …, received 'done'" }]),
  unauthenticated: err('unauthenticated', 'A bearer token is required', [{ field: 'authorization', message: 'missing or unknown bearer token' }]),
  forbidden: (scope: string) => err('forbidden', `Token of bob lacks the "${scope}" scope`, [{ field: 'authorization', message: `scope "${scope}" required` }]),
  not_found: err('not_found', `No rollout with id ${ID}`),
  target_not_allowed: err('target_not_allowed', 'Target not allowed: instance_id, replicas[3]', [
    { field: 'instance_id', message: '10.0.0.7 port 8000 is not in the allowed targets (SERVETUNE_ALLOWED_TARGETS=localhost,127.0.0.0/8,::1)' },
    { field: 'replicas[3]', message: '169.254.169.254 is a link-local address (cloud metadata services live at 169.254.169.254), never a target' },
  ]),
  rollout_in_progress: err('rollout_in_progress', `Deployment 127.0.0.1:8000 already has a rollout in progress: ${ID}`, [
    { field: 'instance_id', message: `rollout ${ID} is in progress on deployment http://localhost:8000` },
  ]),
  not_awaiting_approval: err('not_awaiting_approval', `Rollout ${ID} is rolling_out (monitor_stage), not awaiting approval`),
  not_awaiting_promotion: err('not_awaiting_promotion', `Rollout ${ID} is rolling_out (monitor_stage), not awaiting promotion`),
  not_in_progress: err('not_in_progress', `Rollout ${ID} is completed (complete), not in progress`),
  payload_too_large: err('payload_too_large', 'Request body is too large', [{ field: '(body)', message: 'too large' }]),
  unsupported_media_type: err('unsupported_media_type', 'unsupported content encoding "br"'),
  no_worker: err('no_worker', 'No worker took the approve within 30s; it was not applied and will not be (is the worker running?)'),
  decision_accepted: err('decision_accepted', 'The approve was accepted by the rollout and is being acted on; GET the rollout for its state'),
  decision_outcome_unknown: err(
    'decision_outcome_unknown',
    'A worker started on the approve just before its deadline and has not finished; GET the rollout to see whether it took effect',
  ),
  not_a_rollout: err('not_found', 'No rollout with id deployment-guard:localhost:8000 (it is a deploymentGuardWorkflow workflow)'),
  invalid_utf8: err('invalid_json', 'Request body is not valid UTF-8', [{ field: '(body)', message: 'invalid UTF-8 byte sequence' }]),
  lone_surrogate: err('invalid_json', 'Request body has a lone UTF-16 surrogate in approved_by; text must be valid Unicode', [
    { field: 'approved_by', message: 'lone surrogate (invalid Unicode)' },
  ]),
  temporal_unreachable: err('temporal_unreachable', 'Temporal is not reachable: 14 UNAVAILABLE: No connection established'),
  internal: err('internal', 'Internal error'),
};

// ---------------------------------------------------------------------------------------------
const COMPLETED_ROW: RolloutRow = { ...rolloutSummary(COMPLETED_EXAMPLE), execution_status: 'COMPLETED', summary_source: 'memo' };

const NO_WORKER_EXAMPLE: SummaryState = {
  ...rolloutSummary(AWAITING_EXAMPLE),
  execution_status: 'RUNNING',
  summary_source: 'memo',
  live: false,
  live_unavailable_reason: "No worker answered within 3 s (is a worker polling task queue servetune-rollouts, or is it busy?); this is the rollout's last summary",
};

// Document

type Responses = RouteConfig['responses'];
const json = (schema: z.ZodTypeAny, examples: Record<string, { summary?: string; value: unknown }>) => ({ 'application/json': { schema, examples } });
const errorResponse = (description: string, examples: Record<string, ErrorBody>): Responses[string] => ({
  description,
  content: json(ErrorBodySchema, Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }]))),
});
const stateResponse = (description: string, examples: Record<string, WorkflowState>): Responses[string] => ({
  description,
  content: json(WorkflowStateSchema, Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }]))),
});

/** Answers every token-checked endpoint can give. */
const authResponses = (scope: string): Responses => ({
  401: errorResponse('With tokens configured: no bearer token, or an unknown one.', { unauthenticated: ERROR_EXAMPLES.unauthenticated }),
  403: errorResponse(`With tokens configured: the token lacks the "${scope}" scope.`, { forbidden: ERROR_EXAMPLES.forbidden(scope) }),
  500: errorResponse('Unexpected failure (for example Temporal unreachable).', { internal: ERROR_EXAMPLES.internal }),
});

const bodyResponses: Responses = {
  413: errorResponse('The body is larger than the gateway accepts (64 kB by default).', { payload_too_large: ERROR_EXAMPLES.payload_too_large }),
  415: errorResponse('The body uses an encoding or charset the gateway does not read.', { unsupported_media_type: ERROR_EXAMPLES.unsupported_media_type }),
};

const notFound = errorResponse('No rollout has this id (an id of another kind of workflow, such as a deployment guard, is 404 too).', {
  not_found: ERROR_EXAMPLES.not_found,
  not_a_rollout: ERROR_EXAMPLES.not_a_rollout,
});
const badRequest = (what: string): Responses[string] =>
  errorResponse(`${what}: every offending field is named in \`details\`. Bodies must be valid UTF-8 and valid Unicode (no lone surrogates).`, {
    invalid_request: ERROR_EXAMPLES.invalid_request,
    invalid_json: ERROR_EXAMPLES.invalid_json,
    invalid_utf8: ERROR_EXAMPLES.invalid_utf8,
    lone_surrogate: ERROR_EXAMPLES.lone_surrogate,
  });
/** Tokens are optional: without them configured the gateway serves anonymous callers (loopback only). */
const secured = (scope: string): Array<Record<string, string[]>> => [{ bearerAuth: [scope] }, {}];

/**
 * Tags `schema` itself as component `name`, so that its uses nested inside other model schemas become
 * `$ref`s (the library only recognises components by metadata on the instance it meets).
 */
function component<T extends z.ZodTypeAny>(registry: OpenAPIRegistry, name: string, schema: T, description?: string): T {
  const registered = registry.register(name, description ? schema.openapi({ description }) : schema);
  (schema._def as { openapi?: unknown }).openapi = (registered._def as { openapi?: unknown }).openapi;
  return schema;
}

/**
 * Two repairs of zod-to-openapi 7's OpenAPI 3.1 output, so the schemas mean what the zod schemas mean:
 * - a nullable component reference comes out as `allOf: [{$ref}, {type: [object, null]}]`, which
 *   rejects null (null fails the `$ref` branch; asteasolutions/zod-to-openapi#387 fixes it upstream):
 *   rewritten to `anyOf: [{$ref}, {type: null}]`;
 * - a `z.tuple` without rest comes out as bare `prefixItems`, which admits any length: its length is pinned;
 * - a nullable `z.enum` comes out as `type: [string, null]` with an `enum` lacking null, which rejects
 *   null after all: null is added to the enum.
 */
export function repairGeneratedSchemas(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(repairGeneratedSchemas);
  if (node === null || typeof node !== 'object') return node;
  const obj = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, repairGeneratedSchemas(v)])) as Record<string, unknown>;
  const allOf = obj.allOf;
  if (Array.isArray(allOf) && allOf.length === 2) {
    const [ref, extra] = allOf as Array<Record<string, unknown>>;
    if (typeof ref?.$ref === 'string' && Object.keys(ref).length === 1 && Array.isArray(extra?.type) && extra.type.includes('null')) {
      const { allOf: _dropped, ...rest } = obj;
      const { type: _type, ...annotations } = extra;
      return { ...rest, ...annotations, anyOf: [ref, { type: 'null' }] };
    }
  }
  if (Array.isArray(obj.enum) && Array.isArray(obj.type) && obj.type.includes('null') && !obj.enum.includes(null)) {
    return { ...obj, enum: [...obj.enum, null] };
  }
  if (Array.isArray(obj.prefixItems) && obj.items === undefined) {
    return { ...obj, minItems: obj.prefixItems.length, maxItems: obj.prefixItems.length };
  }
  return obj;
}

export function buildOpenApiDocument(inputs: OpenApiInputs): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'Optional. With `SERVETUNE_API_TOKENS` or `SERVETUNE_API_TOKENS_FILE` set, every /api/v1 call except this document needs a bearer token with the scope (role) the operation lists; actions are then recorded under the token\'s subject. Without tokens the gateway listens on loopback only and takes `approved_by`/`rejected_by` from the body.',
  });

  // Components: the models' schemas, nested ones first so their names are the ones the refs use.
  component(registry, 'EngineType', EngineTypeSchema, 'Inference engine of the deployment.');
  component(registry, 'EngineArgs', EngineArgsSchema, "Engine args by the engine's own CLI flag names in snake_case.");
  component(registry, 'Snapshot', SnapshotSchema, 'Engine-neutral view of replicas over a window; a metric without data is null, never 0.');
  component(registry, 'HealthComponent', HealthComponentSchema);
  component(registry, 'Bottleneck', BottleneckSchema);
  component(registry, 'AnalysisResult', AnalysisResultSchema);
  component(registry, 'Optimization', OptimizationSchema);
  component(registry, 'OptimizationPlan', OptimizationPlanSchema);
  component(registry, 'WorkflowStatus', WorkflowStatusSchema);
  component(registry, 'Step', StepSchema);
  component(registry, 'HealthSample', HealthSampleSchema);
  component(registry, 'CanaryDecision', CanaryDecisionSchema);
  component(registry, 'CanaryJudgement', CanaryJudgementSchema, "A stage's canary-versus-baseline judgement, metric by metric.");
  component(registry, 'StageRecord', StageRecordSchema);
  component(registry, 'AuditEntry', AuditEntrySchema);
  component(registry, 'WorkflowState', WorkflowStateSchema, "A rollout's state: what GET answers and the workflow's `getState` query returns.");
  component(registry, 'RolloutSummary', RolloutSummarySchema, 'The compact summary a rollout keeps in its memo at each status or stage change.');
  component(registry, 'RolloutRow', RolloutRowSchema, 'One row of the list: a summary, Temporal\'s status of the workflow, and where the summary came from.');
  component(registry, 'WorkflowList', WorkflowListSchema);
  component(registry, 'LiveState', LiveStateSchema, 'The state answered by the rollout itself: its query, or its final result once finished.');
  component(registry, 'SummaryState', SummaryStateSchema, 'The last summary, when no worker answered within the query deadline or the workflow did not end by itself.');
  component(registry, 'RolloutRead', RolloutReadSchema, 'What GET of one rollout answers: `live: true` with the full state, or `live: false` with the last summary and why.');
  component(registry, 'RolloutRequest', RolloutRequestSchema, 'Body of POST /api/v1/workflows; unknown fields are a 400.');
  component(registry, 'ApproveRequest', ApproveSchema);
  component(registry, 'RejectRequest', RejectSchema);
  component(registry, 'PromoteRequest', PromoteSchema);
  component(registry, 'AbortRequest', AbortSchema);
  component(registry, 'FlagChange', FlagChangeSchema);
  component(registry, 'TuningBudget', TuningBudgetSchema);
  component(registry, 'TuningConstraint', TuningConstraintSchema);
  component(registry, 'DecisionLogEntry', DecisionLogEntrySchema, 'One iteration of a tuning run: the step, its evidence, the verdict its rollout reached, the scores.');
  component(registry, 'TuningState', TuningStateSchema, "A tuning run's state: what GET answers and the workflow's `getTuningState` query returns.");
  component(registry, 'TuningRequest', TuningRequestSchema, 'Body of POST /api/v1/tunings; unknown fields are a 400.');
  component(registry, 'StopTuningRequest', StopTuningSchema);
  component(registry, 'ErrorBody', ErrorBodySchema, 'Every non-2xx answer of the gateway carries this body.');
  component(registry, 'Healthz', HealthzSchema);
  component(registry, 'Readyz', ReadyzSchema);

  const idParams = z.object({
    id: inputs.workflowId.openapi({ description: 'The rollout id (its Temporal workflow ID), as `workflow_id` answers it.', example: ID }),
  });
  const queryDocs: Record<string, string> = {
    instance_id: 'Only rollouts of this deployment.',
    status: 'Only rollouts in this status.',
    limit: 'At most this many rollouts (newest first).',
  };
  const listQuery = z.object(
    Object.fromEntries(Object.entries(inputs.listQuery.shape as z.ZodRawShape).map(([k, s]) => [k, s.openapi({ description: queryDocs[k] })])),
  );

  registry.registerPath({
    method: 'post',
    path: '/api/v1/workflows',
    operationId: 'startRollout',
    tags: ['rollouts'],
    summary: 'Validate a request and start a rollout workflow',
    security: secured('start'),
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: RolloutRequestSchema,
            examples: {
              readme: { summary: 'No approval, 10-second windows (docs/api.md)', value: REQUEST_EXAMPLE },
              approval: {
                summary: 'Wait for an approval first',
                value: { instance_id: 'localhost:8000', instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 10 },
              },
            },
          },
        },
      },
    },
    responses: {
      201: stateResponse('Started; the state as the rollout begins.', { started: PENDING_EXAMPLE }),
      400: errorResponse(
        'Invalid JSON, unknown fields, wrong types or out-of-range values (`invalid_request`), or an address the worker may not call (`target_not_allowed`: `instance_id`, `replicas[i]` or `metrics_source.url` outside `SERVETUNE_ALLOWED_TARGETS`, or always refused: link-local and metadata addresses); every offending field is named in `details`.',
        { invalid_request: ERROR_EXAMPLES.invalid_request, invalid_json: ERROR_EXAMPLES.invalid_json, target_not_allowed: ERROR_EXAMPLES.target_not_allowed },
      ),
      409: errorResponse('The deployment already has a rollout in progress: another spelling of the same deployment (`localhost:8000`, `http://127.0.0.1:8000`) is the same deployment.', { rollout_in_progress: ERROR_EXAMPLES.rollout_in_progress }),
      ...bodyResponses,
      ...authResponses('start'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/api/v1/workflows',
    operationId: 'listRollouts',
    tags: ['rollouts'],
    summary: 'List rollouts, newest first',
    security: secured('read'),
    request: { query: listQuery },
    responses: {
      200: {
        description: 'The rollouts matching the filters, from one visibility call (no worker needed): each row is the summary the rollout keeps in its memo.',
        content: json(WorkflowListSchema, { completed: { value: { workflows: [COMPLETED_ROW] } } }),
      },
      400: errorResponse('Invalid or unknown query parameters.', { invalid_request: ERROR_EXAMPLES.invalid_query }),
      ...authResponses('read'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/api/v1/workflows/{id}',
    operationId: 'getRollout',
    tags: ['rollouts'],
    summary: "A rollout's current state, running or finished",
    security: secured('read'),
    request: { params: idParams },
    responses: {
      200: {
        description:
          'The state (`live: true`): a finished rollout\'s from its result (with an `ETag`; `If-None-Match` gets 304), a running one\'s from its query. When no worker answers the query within `SERVETUNE_QUERY_TIMEOUT_MS`, or the workflow was terminated, cancelled or timed out in Temporal, the last summary with `live: false` and `live_unavailable_reason`.',
        headers: { ETag: { description: 'On a finished rollout: its tag, for `If-None-Match`.', schema: { type: 'string' } } },
        content: json(RolloutReadSchema, {
          completed: { value: { ...COMPLETED_EXAMPLE, live: true } },
          awaiting_approval: { value: { ...AWAITING_EXAMPLE, live: true } },
          rolled_back: { value: { ...ROLLED_BACK_EXAMPLE, live: true } },
          no_worker: { summary: 'No worker answered in time', value: NO_WORKER_EXAMPLE },
        }),
      },
      304: { description: 'A finished rollout whose `ETag` matches `If-None-Match`: no body.' },
      400: errorResponse('The id is not a valid workflow id.', { invalid_request: err('invalid_request', 'Invalid workflow id: (body)', [{ field: '(body)', message: 'String must contain at most 255 character(s)' }]) }),
      404: notFound,
      ...authResponses('read'),
    },
  });

  const action = (
    name: 'approve' | 'reject' | 'promote' | 'abort',
    summary: string,
    body: z.ZodTypeAny,
    bodyExamples: Record<string, unknown>,
    ok: Record<string, WorkflowState>,
    conflict: [string, ErrorBody],
  ) =>
    registry.registerPath({
      method: 'post',
      path: `/api/v1/workflows/{id}/${name}`,
      operationId: `${name}Rollout`,
      tags: ['rollouts'],
      summary,
      description: 'The body is optional: an empty POST acts as "anonymous". With tokens configured, the actor recorded is the token\'s subject.',
      security: secured('approve'),
      request: {
        params: idParams,
        body: {
          required: false,
          content: { 'application/json': { schema: body, examples: Object.fromEntries(Object.entries(bodyExamples).map(([k, value]) => [k, { value }])) } },
        },
      },
      responses: {
        200: stateResponse('The state once the workflow has acted on the decision.', ok),
        400: badRequest('Invalid JSON, unknown fields or wrong types'),
        404: notFound,
        409: errorResponse(conflict[0], { [conflict[1].error.code]: conflict[1] }),
        ...bodyResponses,
        202: errorResponse('Rare: a worker accepted the decision at its deadline and has not answered yet. It has taken effect; GET shows the state.', {
          decision_accepted: ERROR_EXAMPLES.decision_accepted,
        }),
        503: errorResponse('No worker took the decision before its deadline. It was not applied and never will be: the workflow refuses it if it reaches a worker later.', {
          no_worker: ERROR_EXAMPLES.no_worker,
        }),
        504: errorResponse('Rare: a worker was in the middle of taking the decision when the gateway gave up; GET shows whether it took effect.', {
          decision_outcome_unknown: ERROR_EXAMPLES.decision_outcome_unknown,
        }),
        ...authResponses('approve'),
      },
    });

  action('approve', 'Approve a rollout that is awaiting approval', ApproveSchema, { readme: { approved_by: 'admin' }, with_comment: { approved_by: 'alice', comment: 'ok' } }, { approved: APPROVED_EXAMPLE }, [
    'The rollout is not awaiting approval.',
    ERROR_EXAMPLES.not_awaiting_approval,
  ]);
  action('reject', 'Reject a rollout that is awaiting approval', RejectSchema, { readme: { rejected_by: 'admin', reason: 'change freeze' } }, { rejected: REJECTED_EXAMPLE }, [
    'The rollout is not awaiting approval.',
    ERROR_EXAMPLES.not_awaiting_approval,
  ]);
  action('promote', 'Start the next stage of a rollout with auto_rollout false', PromoteSchema, { named: { promoted_by: 'oncall' } }, { promoted: { ...APPROVED_EXAMPLE, current_stage: '50%' } }, [
    'The rollout is not waiting for a promotion.',
    ERROR_EXAMPLES.not_awaiting_promotion,
  ]);
  action('abort', 'Stop a rollout now and roll back what it changed', AbortSchema, { named: { aborted_by: 'oncall', reason: 'pager' } }, { aborting: APPROVED_EXAMPLE }, [
    'The rollout has already ended.',
    ERROR_EXAMPLES.not_in_progress,
  ]);

  const tuningParams = z.object({ id: inputs.workflowId.openapi({ description: 'The tuning id, as `tuning_id` answers it.', example: TUNING_EXAMPLE.tuning_id }) });
  const tuningNotFound = errorResponse('No tuning run has this id.', { not_found: err('not_found', `No tuning run with id ${TUNING_EXAMPLE.tuning_id}`) });
  const tuningState = (description: string) => ({ description, content: json(TuningStateSchema, { running: { value: TUNING_EXAMPLE } }) });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/tunings',
    operationId: 'startTuning',
    tags: ['tunings'],
    summary: 'Start a closed-loop tuning run of a deployment (docs/tuning.md)',
    security: secured('start'),
    request: { body: { required: true, content: json(TuningRequestSchema, { sglang: { value: { instance_id: 'localhost:30000', instance_type: 'sglang', target_health: 80, budget: { max_iterations: 8 } } } }) } },
    responses: {
      201: tuningState('Accepted; the run as it begins.'),
      400: errorResponse('Invalid JSON, unknown fields, wrong types or out-of-range values, or a target not allowed; every offending field is named.', { invalid_request: ERROR_EXAMPLES.invalid_request }),
      409: errorResponse('A rollout or tuning run already holds the deployment.', { rollout_in_progress: ERROR_EXAMPLES.rollout_in_progress }),
      ...bodyResponses,
      ...authResponses('start'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/tunings/{id}',
    operationId: 'getTuning',
    tags: ['tunings'],
    summary: "A tuning run's state and decision log",
    security: secured('read'),
    request: { params: tuningParams },
    responses: { 200: tuningState('The state.'), 400: badRequest('The id is not a valid id'), 404: tuningNotFound, ...authResponses('read') },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/tunings/{id}/stop',
    operationId: 'stopTuning',
    tags: ['tunings'],
    summary: 'Stop a tuning run after its current iteration',
    security: secured('approve'),
    request: { params: tuningParams, body: { required: false, content: json(StopTuningSchema, { named: { value: { stopped_by: 'oncall', reason: 'good enough' } } }) } },
    responses: {
      200: tuningState('The state once the run has taken the request (it ends after the current iteration).'),
      400: badRequest('Invalid JSON, unknown fields or wrong types'),
      404: tuningNotFound,
      409: errorResponse('The run has already ended.', { not_running: err('not_running', `Tuning run ${TUNING_EXAMPLE.tuning_id} is completed; only a running one can be stopped`) }),
      ...bodyResponses,
      ...authResponses('approve'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    tags: ['health'],
    summary: 'Liveness',
    security: [],
    responses: { 200: { description: 'The gateway process is up.', content: json(HealthzSchema, { ok: { value: { status: 'ok' } } }) } },
  });

  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    tags: ['health'],
    summary: 'Readiness: Temporal answers within 2 s; whether any worker polls',
    description: 'A load balancer routes on the HTTP status (200: Temporal reachable, reads and starts work). `status: degraded` (still 200) says no worker polls the task queue: alert on it, do not route on it.',
    security: [],
    responses: {
      200: {
        description: 'Ready.',
        content: json(ReadyzSchema, {
          ready: { value: { status: 'ready', temporal: 'reachable', workers: { polling: true, pollers: 2, checked_at: '2025-06-02T09:00:00.000Z' } } },
          degraded: { summary: 'No worker polls', value: { status: 'degraded', temporal: 'reachable', workers: { polling: false, pollers: 0, checked_at: '2025-06-02T09:00:00.000Z' } } },
        }),
      },
      503: errorResponse('Temporal is not reachable.', { temporal_unreachable: ERROR_EXAMPLES.temporal_unreachable }),
    },
  });

  registry.registerPath({
    method: 'get',
    path: OPENAPI_PATH,
    operationId: 'openapi',
    tags: ['meta'],
    summary: 'This document',
    security: [],
    responses: { 200: { description: 'The OpenAPI 3.1 document of the gateway.', content: { 'application/json': { schema: { type: 'object' } } } } },
  });

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'servetune gateway',
      version,
      description:
        'Staged, metric-gated, reversible engine-config rollouts for LLM inference fleets. Each rollout is a Temporal workflow whose ID is the `workflow_id` of this API.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'rollouts', description: 'Start, inspect and steer rollouts.' },
      { name: 'tunings', description: 'Closed-loop tuning runs: rollout after rollout until the SLO is met or a budget is spent.' },
      { name: 'health', description: 'Liveness and readiness probes.' },
      { name: 'meta', description: 'This document.' },
    ],
  });
  return repairGeneratedSchemas(document) as Record<string, unknown>;
}

/** `GET /api/v1/openapi.json`: no token needed. The document is built once per app. */
export function openApiHandler(inputs: OpenApiInputs): RequestHandler {
  const document = buildOpenApiDocument(inputs);
  return (_req, res) => {
    res.json(document);
  };
}
