/**
 * The gateway's Prometheus metrics (`GET /metrics`) and its request log: request counts and latency
 * by route and status, rollouts started through the gateway, rollouts open in Temporal right now (from
 * visibility, so every gateway replica reports the same truth), and optionally Node process metrics.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EngineTypeSchema, WorkflowStatusSchema, type WorkflowStatus } from '../models';
import { logger as rootLogger } from '../runtime/logger';
import { quoteVisibility } from './rolloutReads';
import { ROLLOUT_WORKFLOW_TYPE, STATUS_KEY, TERMINAL_STATUSES } from '../contract';

export const OPEN_STATUSES: WorkflowStatus[] = WorkflowStatusSchema.options.filter((s) => !TERMINAL_STATUSES.includes(s));

export interface GatewayMetricsOptions {
  registry?: Registry;
  /** Node process metrics (CPU, memory, event loop lag, GC); the gateway process turns them on. */
  processMetrics?: boolean;
  /** With a client, `servetune_rollouts_open` counts running rollouts per status in Temporal's visibility store. */
  client?: Client;
  /** How long a visibility count is reused between scrapes. */
  visibilityCacheMs?: number;
  logger?: Logger;
}

export interface GatewayMetrics {
  registry: Registry;
  /** Counts, times and logs every request; mount it before the routes. */
  middleware: RequestHandler;
  /** `GET /metrics`. */
  handler: RequestHandler;
}

const WORKFLOW_PATH = /^\/api\/v1\/workflows\/([^/?#]+)(\/[a-z]+)?\/?$/;

/**
 * The route template of a request ("/api/v1/workflows/:id"), or "unmatched": label values stay as few
 * as the gateway's routes. Express restores `req.baseUrl` when an error leaves a router, so the mount
 * prefix is taken from the request path: the segments before those the route matched.
 */
export function routeOf(req: Request): string {
  const template = req.route?.path;
  if (typeof template !== 'string') return 'unmatched';
  const segments = req.originalUrl.split('?')[0].split('/').filter(Boolean);
  const routeSegments = template.split('/').filter(Boolean);
  const prefix = segments.slice(0, Math.max(0, segments.length - routeSegments.length));
  return `/${[...prefix, ...routeSegments].join('/')}`;
}

/** The workflow id a request is about: the `:id` of the route, or the id a start answered with. */
export function workflowIdOf(req: Request, body: unknown): string | undefined {
  const m = WORKFLOW_PATH.exec(req.originalUrl.split('?')[0]);
  if (m) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return m[1];
    }
  }
  const id = (body as { workflow_id?: unknown } | undefined)?.workflow_id;
  return typeof id === 'string' ? id : undefined;
}

const QUIET_ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

export function createGatewayMetrics(opts: GatewayMetricsOptions = {}): GatewayMetrics {
  const registry = opts.registry ?? new Registry();
  const log = opts.logger ?? rootLogger;
  const registers = [registry];
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({ name: 'servetune_http_requests_total', help: 'Gateway HTTP requests, by method, route and status', labelNames: ['method', 'route', 'status'], registers });
  const duration = new Histogram({
    name: 'servetune_http_request_duration_seconds',
    help: 'Gateway HTTP request latency, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const started = new Counter({ name: 'servetune_gateway_rollouts_started_total', help: 'Rollouts started through the gateway (201 answers to POST /api/v1/workflows), by engine', labelNames: ['engine'], registers });
  for (const engine of EngineTypeSchema.options) started.inc({ engine }, 0);
  const actions = new Counter({
    name: 'servetune_gateway_rollout_actions_total',
    help: 'Approve, reject, promote and abort calls through the gateway, by action and status',
    labelNames: ['action', 'status'],
    registers,
  });

  if (opts.client) {
    const client = opts.client;
    const cacheMs = opts.visibilityCacheMs ?? 10_000;
    // One visibility round per scrape at most (both gauges below collect from it), reused for cacheMs.
    let last: { at: number; counts: Promise<Map<WorkflowStatus, number>> } | null = null;
    const countOpen = (): Promise<Map<WorkflowStatus, number>> => {
      if (last && Date.now() - last.at < Math.max(cacheMs, 1_000)) return last.counts;
      const counts = Promise.all(
        OPEN_STATUSES.map(async (status) => {
          const query = `WorkflowType = ${quoteVisibility(ROLLOUT_WORKFLOW_TYPE)} AND ExecutionStatus = "Running" AND ${STATUS_KEY.name} = ${quoteVisibility(status)}`;
          return [status, (await client.workflow.count(query)).count] as const;
        }),
      ).then((entries) => new Map(entries));
      last = { at: Date.now(), counts };
      counts.catch((err: Error) => {
        last = null; // retry at the next scrape
        log.warn({ err: err.message, cause: (err.cause as Error | undefined)?.message }, 'visibility count for metrics failed');
      });
      return counts;
    };
    new Gauge({
      name: 'servetune_visibility_up',
      help: '1 if the visibility count behind servetune_rollouts_open succeeded',
      registers,
      async collect() {
        this.set(await countOpen().then(() => 1, () => 0));
      },
    });
    new Gauge({
      name: 'servetune_rollouts_open',
      help: 'Rollouts running in Temporal now, by status (from visibility; cached for a few seconds)',
      labelNames: ['status'],
      registers,
      async collect() {
        // On failure keep the last values: the scrape stays alive, and servetune_visibility_up says 0.
        const counts = await countOpen().catch(() => null);
        for (const [status, n] of counts ?? []) this.set({ status }, n);
      },
    });
  }

  const middleware: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const stop = duration.startTimer();
    let body: unknown;
    const json = res.json.bind(res);
    res.json = (value: unknown) => {
      body = value;
      return json(value);
    };
    res.once('finish', () => {
      const route = routeOf(req);
      const labels = { method: req.method, route, status: String(res.statusCode) };
      const seconds = stop(labels);
      requests.inc(labels);
      if (req.method === 'POST' && route === '/api/v1/workflows' && res.statusCode === 201) {
        const engine = (body as { instance_type?: unknown } | undefined)?.instance_type;
        started.inc({ engine: typeof engine === 'string' ? engine : 'unknown' });
      }
      const action = /\/(approve|reject|promote|abort)$/.exec(route)?.[1];
      if (action) actions.inc({ action, status: String(res.statusCode) });

      const workflowId = workflowIdOf(req, body);
      const line = {
        method: req.method,
        route,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        duration_ms: Math.round(seconds * 1000 * 10) / 10,
        ...(workflowId ? { workflow_id: workflowId } : {}),
      };
      // Mutations at info (they are the audit trail's counterpart), reads and probes at debug.
      if (res.statusCode >= 500) log.error(line, 'request failed');
      else if (res.statusCode >= 400) log.warn(line, 'request refused');
      else if (req.method === 'GET' || QUIET_ROUTES.has(route)) log.debug(line, 'request');
      else log.info(line, 'request');
    });
    next();
  };

  const handler: RequestHandler = async (_req, res, next) => {
    try {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    } catch (err) {
      next(err);
    }
  };

  return { registry, middleware, handler };
}
