/**
 * The agent's HTTP surface (DESIGN.md "Deployments, replicas, config"), on its own port:
 *
 * | route | answers |
 * | --- | --- |
 * | `GET /servetune/v1/config` | `{revision, engine, engine_args}` |
 * | `PUT /servetune/v1/config` | 200 applied and healthy (or same revision: no-op); 400 invalid body or args that cannot be flags; 409 `lease_held` (another rollout holds the replica, agent/leaseHttp.ts); 422 `apply_failed` (engine refused the args, previous revision restored); 502 `engine_unavailable` (previous revision did not come back either); 503 shutting down |
 * | `GET`/`DELETE /servetune/v1/lease` | who holds the replica; release by the holder or forced (agent/leaseHttp.ts, docs/replica-leases.md) |
 * | `GET /servetune/v1/replicas` | `{replicas: [this agent]}`: one replica |
 * | `GET /servetune/v1/status` | state, revision, pid, restarts, last error with stderr |
 * | `GET /health` | readiness: the engine's health route; 503 `draining` once a restart's drain has begun, 503 while the engine is down or restarting |
 * | `* /v1/*` | inference requests passed to the engine while it admits (agent/inferenceProxy.ts); 503 `draining` with Retry-After otherwise |
 * | `GET /metrics` | the engine's `/metrics`, proxied (502 when it does not answer) |
 * | `GET /info`, `GET /get_server_info` | TGI's / SGLang's introspection route, proxied |
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { ReplicaLease } from '../core/replicaLease';
import { ConfigPushSchema, type ErrorBody, type ReplicaList } from '../models';
import { inferenceProxy } from './inferenceProxy';
import { claimForPush, leaseRouter } from './leaseHttp';
import type { Supervisor } from './supervisor';

export interface AgentAppOptions {
  supervisor: Supervisor;
  /** Engine root, e.g. http://127.0.0.1:8000. */
  engineUrl: string;
  healthPath: string;
  introspectionPath?: string;
  /** This agent's address for discovery; default: the URL the client used (Host header). */
  advertiseUrl?: string;
  /** Timeout of proxied requests; default 10 s. */
  proxyTimeoutMs?: number;
  /** Which rollout holds this replica; default a fresh one on the wall clock (tests inject a clock). */
  lease?: ReplicaLease;
}

function sendError(res: Response, status: number, code: string, message: string, details: ErrorBody['error']['details'] = []): void {
  const body: ErrorBody = { error: { code, message, details } };
  res.status(status).json(body);
}

export function createAgentApp(opts: AgentAppOptions): express.Express {
  const { supervisor } = opts;
  const proxyTimeoutMs = opts.proxyTimeoutMs ?? 10_000;
  const lease = opts.lease ?? new ReplicaLease();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/servetune/v1/config', (_req, res) => {
    res.json(supervisor.config());
  });

  app.put('/servetune/v1/config', express.json({ limit: '1mb' }), async (req, res) => {
    const parsed = ConfigPushSchema.safeParse(req.body);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ field: i.path.length > 0 ? i.path.join('.') : 'body', message: i.message }));
      return sendError(res, 400, 'invalid_request', `${details[0].field}: ${details[0].message}`, details);
    }
    if (!claimForPush(lease, parsed.data, res)) return;
    const outcome = await supervisor.push(parsed.data);
    if (outcome.status === 200) return void res.status(200).json(outcome.config);
    sendError(res, outcome.status, outcome.code, outcome.message, outcome.details);
  });

  app.use(leaseRouter(() => lease));

  app.get('/servetune/v1/replicas', (req, res) => {
    const self = opts.advertiseUrl ?? `${req.protocol}://${req.get('host') ?? req.socket.localAddress}`;
    const body: ReplicaList = { replicas: [self.replace(/\/+$/, '')] };
    res.json(body);
  });

  app.get('/servetune/v1/status', (_req, res) => {
    res.json(supervisor.status());
  });

  const proxy = (path: string, unavailable: { status: number; code: string }) => async (_req: Request, res: Response) => {
    if (!supervisor.engineUp) {
      return sendError(res, unavailable.status, unavailable.code, `engine is ${supervisor.status().state}`);
    }
    try {
      const upstream = await fetch(`${opts.engineUrl}${path}`, { signal: AbortSignal.timeout(proxyTimeoutMs) });
      const body = Buffer.from(await upstream.arrayBuffer());
      const type = upstream.headers.get('content-type');
      if (type) res.setHeader('content-type', type);
      res.status(upstream.status).send(body);
    } catch (err) {
      sendError(res, unavailable.status, unavailable.code, `engine did not answer ${path}: ${(err as Error).message}`);
    }
  };

  const engineHealth = proxy(opts.healthPath, { status: 503, code: 'engine_unhealthy' });
  app.get('/health', (req, res) => {
    // Readiness goes false as soon as a drain begins: the engine still answers, but must get no new work.
    if (supervisor.engineUp && !supervisor.admitting) return sendError(res, 503, 'draining', 'engine is draining before a restart');
    return engineHealth(req, res);
  });
  app.all('/v1/{*path}', inferenceProxy(supervisor, opts.engineUrl));
  app.get('/metrics', proxy('/metrics', { status: 502, code: 'engine_unavailable' }));
  if (opts.introspectionPath) app.get(opts.introspectionPath, proxy(opts.introspectionPath, { status: 502, code: 'engine_unavailable' }));

  app.use((req: Request, res: Response) => {
    sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_request', `malformed JSON: ${e.message ?? ''}`.trim());
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'invalid_request', e.message ?? 'bad request');
    }
    sendError(res, 500, 'internal', e?.message ?? 'internal error');
  });

  return app;
}
