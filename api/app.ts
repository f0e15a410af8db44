import express, { type NextFunction, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { AbortSchema, ApproveSchema, PromoteSchema, RejectSchema, RolloutRequestSchema, StopTuningSchema, TuningRequestSchema, WorkflowStatusSchema } from '../models';
import { requireUtf8, refuseLoneSurrogates } from './bodyText';
import { actorName, requireScope, TokenStore, type Caller } from './auth';
import { logger } from '../runtime/logger';
import { HttpError, validationError } from './httpError';
import { createGatewayMetrics, type GatewayMetrics } from './telemetry';
import { OPENAPI_PATH, openApiHandler } from './openapi';
import { RolloutService } from './rolloutService';
import { TuningService } from './tuningService';
import { DEFAULT_READS } from './rolloutReads';
import { WorkerPollers } from './workerPollers';
import { assertTargetsAllowed } from './targetPolicy';
import type { Allowlist } from '../core/targetAllowlist';
import { allowedTargetsFromEnv } from '../runtime/targetSettings';

export interface AppOptions {
  taskQueue: string;
  /** With tokens, every /api/v1 call needs a bearer token with the endpoint's scope. */
  tokens?: TokenStore;
  /** Largest accepted JSON body; larger ones get 413. */
  bodyLimit?: string;
  /** Prometheus metrics and request log served at GET /metrics; a private registry when absent. */
  metrics?: GatewayMetrics;
  /**
   * GET /metrics without a token even when tokens are on (SERVETUNE_METRICS_PUBLIC=1, for a Prometheus
   * that cannot send one). Off by default: with tokens, /metrics needs the `metrics` scope.
   */
  metricsPublic?: boolean;
  /** How long approve/reject/promote/abort wait for a worker to take them before answering 503. */
  decisionTimeoutMs?: number;
  /** How long GET of a running rollout waits for a worker's answer before it answers the memo summary (`live: false`). */
  queryTimeoutMs?: number;
  /** How many finished rollouts' answers GET keeps in memory (0: none). */
  readCacheSize?: number;
  /** Hosts rollouts may target; from `SERVETUNE_ALLOWED_TARGETS` (loopback only when unset) when absent. */
  allowedTargets?: Allowlist;
}

const ListQuerySchema = z
  .object({
    instance_id: z.string().min(1).max(512).optional(),
    status: WorkflowStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const WorkflowIdSchema = z.string().min(1).max(255);

/** /readyz answers within this, whatever Temporal does. */
const READY_TIMEOUT_MS = 2000;

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

/** Approve/reject bodies are optional: an empty POST means "anonymous, no comment". */
function bodyOrEmpty(req: Request): unknown {
  return req.body === undefined || req.body === null ? {} : req.body;
}

export function createApp(client: Client, opts: AppOptions): express.Express {
  const service = new RolloutService(client, opts.taskQueue, opts.decisionTimeoutMs, {
    queryTimeoutMs: opts.queryTimeoutMs ?? DEFAULT_READS.queryTimeoutMs,
    cacheSize: opts.readCacheSize ?? DEFAULT_READS.cacheSize,
  });
  const tunings = new TuningService(client, service);
  const pollers = new WorkerPollers(client, opts.taskQueue);
  const tokens = opts.tokens ?? new TokenStore([]);
  const allowedTargets = opts.allowedTargets ?? allowedTargetsFromEnv();
  const read = requireScope(tokens, 'read');
  const start = requireScope(tokens, 'start');
  const approve = requireScope(tokens, 'approve');
  const caller = (res: Response): Caller => res.locals.caller as Caller;
  const app = express();
  app.disable('x-powered-by');
  const metrics = opts.metrics ?? createGatewayMetrics({ client });
  app.use(metrics.middleware);
  if (opts.metricsPublic) app.get('/metrics', metrics.handler);
  else app.get('/metrics', requireScope(tokens, 'metrics'), metrics.handler);
  app.use(express.json({ limit: opts.bodyLimit ?? '64kb', strict: true, verify: requireUtf8 }));
  app.use(refuseLoneSurrogates);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // 503 only when Temporal is unreachable: reads need no worker, so a gateway without one still serves.
  // Whether a worker polls is reported beside it (`degraded` when none does) for alerts, not routing.
  app.get('/readyz', async (_req, res) => {
    const [reachable, workers] = await Promise.all([service.ready().then(() => null, (err: Error) => err), pollers.check(READY_TIMEOUT_MS)]);
    if (reachable) {
      res.status(503).json(new HttpError(503, 'temporal_unreachable', `Temporal is not reachable: ${reachable.message}`).toBody());
      return;
    }
    res.json({ status: workers.polling === false ? 'degraded' : 'ready', temporal: 'reachable', workers });
  });

  const api = express.Router();

  api.post('/workflows', start, async (req, res) => {
    const request = parse(RolloutRequestSchema, req.body, 'request body');
    assertTargetsAllowed(request, allowedTargets);
    res.status(201).json(await service.start(request, actorName(caller(res), undefined)));
  });

  api.get('/workflows', read, async (req, res) => {
    const filter = parse(ListQuerySchema, req.query, 'query string');
    res.json({ workflows: await service.list(filter) });
  });

  api.get('/workflows/:id', read, async (req, res) => {
    const answer = await service.get(parse(WorkflowIdSchema, req.params.id, 'workflow id'));
    if (answer.kind === 'value') {
      res.json(answer.value);
      return;
    }
    // A finished rollout never changes: its answer is serialized once, and express answers 304 to a matching If-None-Match.
    res.set('ETag', answer.read.etag).type('json').send(answer.read.body);
  });

  api.post('/workflows/:id/approve', approve, async (req, res) => {
    const payload = parse(ApproveSchema, bodyOrEmpty(req), 'request body');
    const approved_by = actorName(caller(res), payload.approved_by);
    res.json(await service.approve(parse(WorkflowIdSchema, req.params.id, 'workflow id'), { ...payload, approved_by }));
  });

  api.post('/workflows/:id/reject', approve, async (req, res) => {
    const payload = parse(RejectSchema, bodyOrEmpty(req), 'request body');
    const rejected_by = actorName(caller(res), payload.rejected_by);
    res.json(await service.reject(parse(WorkflowIdSchema, req.params.id, 'workflow id'), { ...payload, rejected_by }));
  });

  api.post('/workflows/:id/promote', approve, async (req, res) => {
    const payload = parse(PromoteSchema, bodyOrEmpty(req), 'request body');
    const promoted_by = actorName(caller(res), payload.promoted_by);
    res.json(await service.promote(parse(WorkflowIdSchema, req.params.id, 'workflow id'), { promoted_by }));
  });

  api.post('/workflows/:id/abort', approve, async (req, res) => {
    const payload = parse(AbortSchema, bodyOrEmpty(req), 'request body');
    const aborted_by = actorName(caller(res), payload.aborted_by);
    res.json(await service.abort(parse(WorkflowIdSchema, req.params.id, 'workflow id'), { ...payload, aborted_by }));
  });

  api.post('/tunings', start, async (req, res) => {
    const request = parse(TuningRequestSchema, req.body, 'request body');
    assertTargetsAllowed(request, allowedTargets);
    res.status(201).json(await tunings.start(request, actorName(caller(res), undefined)));
  });

  api.get('/tunings/:id', read, async (req, res) => {
    res.json(await tunings.get(parse(WorkflowIdSchema, req.params.id, 'tuning id')));
  });

  api.post('/tunings/:id/stop', approve, async (req, res) => {
    const payload = parse(StopTuningSchema, bodyOrEmpty(req), 'request body');
    const stopped_by = actorName(caller(res), payload.stopped_by);
    res.json(await tunings.stop(parse(WorkflowIdSchema, req.params.id, 'tuning id'), { ...payload, stopped_by }));
  });

  app.get(OPENAPI_PATH, openApiHandler({ listQuery: ListQuerySchema, workflowId: WorkflowIdSchema }));
  app.use('/api/v1', api);

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`)));

  // Express 5 forwards rejected promises from async handlers here.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const httpError = toHttpError(err);
    if (httpError.status >= 500) logger.error({ err }, 'request failed');
    res.status(httpError.status).json(httpError.toBody());
  });

  return app;
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', `Request body is not valid JSON: ${e.message}`, [{ field: '(body)', message: 'invalid JSON' }]);
  if (e?.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'Request body is too large', [{ field: '(body)', message: 'too large' }]);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new HttpError(415, 'unsupported_media_type', e.message ?? 'Unsupported encoding');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new HttpError(e.status, 'bad_request', e.message ?? 'Bad request');
  return new HttpError(500, 'internal', (err as Error)?.message ?? 'Internal error');
}
