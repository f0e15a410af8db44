import express, { type NextFunction, type Request, type Response } from 'express';
import { ConfigPushSchema, FaultSchema, LoadSchema, SimResetSchema, type ReplicaList } from '../models';
import { claimForPush, leaseRouter } from '../agent/leaseHttp';
import type { SimDeployment } from './deployment';
import { sendError, sendInvalid, zodDetails } from './http';

/** What a `malformed_metrics` replica serves: broken exposition lines and an HTML error page. */
export const MALFORMED_METRICS_BODY = [
  '# HELP vllm:num_requests_running Number of requests in model execution batches.',
  '# TYPE vllm:num_requests_running gauge',
  'vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct" 12.0',
  'vllm:kv_cache_usage_perc{engine="0"} not-a-number',
  'vllm:time_to_first_token_seconds_bucket{le=} 3 4 5',
  '<html><body><h1>502 Bad Gateway</h1></body></html>',
  '\u0000\u0001\u0002 garbage',
  '',
].join('\n');

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Replica index from the `/replicas/:index` mount, or undefined if it names no replica. */
function replicaIndex(req: Request, deployment: SimDeployment): number | undefined {
  const raw = String(req.params.index ?? '');
  if (!/^\d+$/.test(raw)) return undefined;
  const i = Number(raw);
  return deployment.replica(i) ? i : undefined;
}

function replicaRouter(deployment: SimDeployment, options: DeploymentAppOptions): express.Router {
  const router = express.Router({ mergeParams: true });
  const index = (req: Request) => replicaIndex(req, deployment) as number;

  router.get('/health', (_req, res) => {
    res.status(200).end();
  });

  router.get('/metrics', (req, res) => {
    const i = index(req);
    res.type(PROMETHEUS_CONTENT_TYPE);
    if (deployment.hasFault(i, 'malformed_metrics')) {
      res.status(200).send(MALFORMED_METRICS_BODY);
      return;
    }
    res.status(200).send(deployment.scrape(i));
  });

  // The engine's own config-introspection route (TGI `/info`, SGLang `/get_server_info`).
  const introspection = deployment.engine.introspection;
  if (introspection) {
    router.get(introspection.path, (req, res) => {
      res.json(deployment.introspect(index(req)));
    });
  }

  router.get('/servetune/v1/config', (req, res) => {
    res.json(deployment.replica(index(req))!.config());
  });

  router.put('/servetune/v1/config', express.json({ limit: '1mb' }), (req, res) => {
    const parsed = ConfigPushSchema.safeParse(req.body);
    if (!parsed.success) return sendInvalid(res, zodDetails(parsed.error));
    // The agent's lease: another rollout's live lease refuses the push before anything changes.
    if (!claimForPush(deployment.replica(index(req))!.lease, parsed.data, res)) return;
    const result = deployment.pushConfig(index(req), parsed.data);
    if (result.status === 400) return sendInvalid(res, result.issues, 'invalid_engine_args');
    if (result.status === 422) return sendError(res, 422, 'apply_failed', result.reason);
    // A real agent answers once the engine has restarted on the new args; the new revision is
    // recorded at once, so a retried push of it (the client gave up waiting) is a no-op.
    const reply = () => res.status(200).json(result.config);
    if (result.changed && options.applyDelayMs > 0) setTimeout(reply, options.applyDelayMs);
    else reply();
  });

  router.use(leaseRouter((req) => deployment.replica(index(req))?.lease));

  return router;
}

/** The HTTP surface of one simulated deployment (one port). */
export interface DeploymentAppOptions {
  /** How long a config push that changes the revision takes to answer (the engine restart). */
  applyDelayMs: number;
  /** Every deployment of this simulator process, which `POST /sim/v1/reset` may name; default: this one alone. */
  fleet?: () => readonly SimDeployment[];
}

export function createDeploymentApp(deployment: SimDeployment, options: DeploymentAppOptions = { applyDelayMs: 0 }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Replica routes: an unknown index is a 404; an `unreachable` replica resets the connection.
  app.use('/replicas/:index', (req: Request, res: Response, next: NextFunction) => {
    const i = replicaIndex(req, deployment);
    if (i === undefined) return sendError(res, 404, 'not_found', `no replica ${req.params.index} in this deployment`);
    if (deployment.hasFault(i, 'unreachable')) {
      req.socket.destroy();
      return;
    }
    next();
  });
  app.use('/replicas/:index', replicaRouter(deployment, options));

  app.get('/servetune/v1/replicas', (_req, res) => {
    const body: ReplicaList = { replicas: deployment.addresses() };
    res.json(body);
  });

  app.get('/health', (_req, res) => {
    res.status(200).end();
  });

  app.get('/sim/v1/state', (_req, res) => {
    res.json(deployment.state());
  });

  app.get('/sim/v1/faults', (_req, res) => {
    res.json({ faults: deployment.listFaults() });
  });

  app.post('/sim/v1/faults', express.json({ limit: '1mb' }), (req, res) => {
    const parsed = FaultSchema.safeParse(req.body);
    if (!parsed.success) return sendInvalid(res, zodDetails(parsed.error));
    const added = deployment.addFault(parsed.data);
    if (!added.ok) return sendInvalid(res, added.issues);
    res.status(201).json({ faults: deployment.listFaults() });
  });

  app.delete('/sim/v1/faults', (_req, res) => {
    deployment.clearFaults();
    res.status(200).json({ faults: [] });
  });

  app.get('/sim/v1/load', (_req, res) => {
    res.json({ load: deployment.getLoad() });
  });

  app.put('/sim/v1/load', express.json({ limit: '1mb' }), (req, res) => {
    const parsed = LoadSchema.safeParse(req.body);
    if (!parsed.success) return sendInvalid(res, zodDetails(parsed.error));
    deployment.setLoad(parsed.data);
    res.status(200).json({ load: deployment.getLoad() });
  });

  // The walkthrough's clean slate: deployments named by engine (none named: all) back on their first config.
  app.post('/sim/v1/reset', express.json({ limit: '1mb' }), (req, res) => {
    const parsed = SimResetSchema.safeParse(req.body ?? {});
    if (!parsed.success) return sendInvalid(res, zodDetails(parsed.error));
    const fleet = options.fleet?.() ?? [deployment];
    const named = parsed.data.deployments;
    const missing = (named ?? []).flatMap((engine, k) =>
      fleet.some((d) => d.engine.engine === engine) ? [] : [{ field: `deployments[${k}]`, message: `no ${engine} deployment in this simulator` }],
    );
    if (missing.length > 0) return sendInvalid(res, missing);
    const chosen = named ? fleet.filter((d) => named.includes(d.engine.engine)) : fleet;
    for (const d of chosen) d.reset();
    res.status(200).json({ reset: chosen.map((d) => d.engine.engine) });
  });

  app.use((req: Request, res: Response) => {
    sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
  });

  // Malformed JSON and other errors thrown by middleware.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') {
      return sendInvalid(res, [{ field: 'body', message: `malformed JSON: ${e.message ?? ''}`.trim() }]);
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'invalid_request', e.message ?? 'bad request');
    }
    sendError(res, 500, 'internal', e?.message ?? 'internal error');
  });

  return app;
}
