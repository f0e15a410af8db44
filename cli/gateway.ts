/**
 * The REST gateway as the `start|status|list|approve|reject|promote|abort|watch` commands see it: base URL from
 * `SERVETUNE_URL` (default http://127.0.0.1:8002), `SERVETUNE_TOKEN` sent as a bearer token when set.
 * Every failure becomes a `GatewayError`: one line with the gateway's own error message.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import {
  ErrorBodySchema,
  TuningStateSchema,
  WorkflowListSchema,
  WorkflowStateSchema,
  RolloutReadSchema,
  type RolloutRead,
  type RolloutRequestInput,
  type TuningRequestInput,
  type TuningState,
  type WorkflowState,
  type WorkflowStatus,
} from '../models';
import { version } from '../package.json';
import { CliError, EXIT } from './io';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8002';

/** What the gateway commands need from the outside world; tests pass their own. */
export interface GatewayDeps {
  env: NodeJS.ProcessEnv;
  /** Per-request timeout. */
  timeoutMs: number;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** Whether stdout is a terminal (watch re-renders in place) and how wide it is. */
  terminal(): { isTTY: boolean; columns?: number };
}

export const defaultGatewayDeps: GatewayDeps = {
  env: process.env,
  // Longer than the gateway's decision timeout (30 s) plus its clock allowance and settling, so an
  // approve no worker takes shows the gateway's 503 ("not applied") instead of a client-side timeout.
  timeoutMs: 60_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  terminal: () => ({ isTTY: process.stdout.isTTY === true, columns: process.stdout.columns }),
};

/** A failed gateway call. `status` is the HTTP status when the gateway answered at all. */
export class GatewayError extends CliError {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message, EXIT.failure);
    this.name = 'GatewayError';
  }
}

/** An answer: the body as the gateway sent it (what `--json` prints) and its validated form. */
export interface Answer<T> {
  raw: unknown;
  value: T;
}

/** `SERVETUNE_URL` as a base URL: a scheme is optional (`host:port` means http), trailing slashes are dropped. */
export function gatewayUrl(env: NodeJS.ProcessEnv): string {
  const given = env.SERVETUNE_URL?.trim() || DEFAULT_GATEWAY_URL;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`SERVETUNE_URL is not a valid URL: ${given}`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`SERVETUNE_URL must be an http or https URL: ${given}`, EXIT.usage);
  return url.toString().replace(/\/+$/, '');
}

function describeNetworkError(err: unknown, baseUrl: string, timeoutMs: number): string {
  const e = err as { code?: string; message?: string; errors?: Array<{ code?: string }> };
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return `no answer from the gateway at ${baseUrl} within ${timeoutMs / 1000} s`;
  const code = e.code ?? e.errors?.find((x) => x.code)?.code;
  return `cannot reach the gateway at ${baseUrl}: ${code ?? e.message ?? String(err)}`;
}

/** The gateway's error body as one line: its message, the fields of a 400, and the status. */
export function describeErrorAnswer(status: number, statusText: string | undefined, body: unknown): GatewayError {
  const parsed = ErrorBodySchema.safeParse(body);
  if (!parsed.success) return new GatewayError(`the gateway answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`, status);
  const { code, message, details } = parsed.data.error;
  const fields = status === 400 && details.length > 0 ? `: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}` : '';
  return new GatewayError(`${message}${fields} (HTTP ${status})`, status, code);
}

export class GatewayClient {
  private readonly http: AxiosInstance;

  constructor(
    readonly baseUrl: string,
    token: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.http = axios.create({
      baseURL: baseUrl,
      timeout: timeoutMs,
      headers: {
        Accept: 'application/json',
        'User-Agent': `servetune-cli/${version}`,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      // Every status is an answer; 4xx/5xx are turned into the gateway's message below.
      validateStatus: () => true,
      maxRedirects: 0,
    });
  }

  static fromEnv(env: NodeJS.ProcessEnv, timeoutMs: number): GatewayClient {
    const token = env.SERVETUNE_TOKEN?.trim();
    return new GatewayClient(gatewayUrl(env), token || undefined, timeoutMs);
  }

  start(request: RolloutRequestInput): Promise<Answer<WorkflowState>> {
    return this.call('post', '/api/v1/workflows', WorkflowStateSchema, request);
  }

  /** The rollout's state (`live: true`), or its last summary when the gateway could not get the live state. */
  get(id: string): Promise<Answer<RolloutRead>> {
    return this.call('get', `/api/v1/workflows/${encodeURIComponent(id)}`, RolloutReadSchema);
  }

  list(filter: { instance_id?: string; status?: WorkflowStatus; limit?: number }): Promise<Answer<z.infer<typeof WorkflowListSchema>>> {
    const params = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
    return this.call('get', '/api/v1/workflows', WorkflowListSchema, undefined, params);
  }

  /** approve, reject, promote or abort: the gateway answers with the state the rollout reached. */
  decide(id: string, decision: 'approve' | 'reject' | 'promote' | 'abort', body: Record<string, string>): Promise<Answer<WorkflowState>> {
    return this.call('post', `/api/v1/workflows/${encodeURIComponent(id)}/${decision}`, WorkflowStateSchema, body);
  }

  startTuning(request: TuningRequestInput): Promise<Answer<TuningState>> {
    return this.call('post', '/api/v1/tunings', TuningStateSchema, request);
  }

  getTuning(id: string): Promise<Answer<TuningState>> {
    return this.call('get', `/api/v1/tunings/${encodeURIComponent(id)}`, TuningStateSchema);
  }

  stopTuning(id: string, body: Record<string, string>): Promise<Answer<TuningState>> {
    return this.call('post', `/api/v1/tunings/${encodeURIComponent(id)}/stop`, TuningStateSchema, body);
  }

  private async call<S extends z.ZodTypeAny>(method: 'get' | 'post', path: string, schema: S, body?: unknown, params?: Record<string, unknown>): Promise<Answer<z.output<S>>> {
    let res: AxiosResponse;
    try {
      res = await this.http.request({ method, url: path, data: body, params, responseType: 'json' });
    } catch (err) {
      throw new GatewayError(describeNetworkError(err, this.baseUrl, this.timeoutMs));
    }
    if (res.status === 202) {
      // A decision the rollout took but has not finished acting on: not a failure, but no state to show.
      const accepted = describeErrorAnswer(res.status, res.statusText, res.data);
      throw new CliError(accepted.message, EXIT.ok);
    }
    if (res.status < 200 || res.status >= 300) throw describeErrorAnswer(res.status, res.statusText, res.data);
    const parsed = schema.safeParse(res.data);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') || '(body)';
      throw new GatewayError(`unexpected answer from ${this.baseUrl}${path}: ${where}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, res.status);
    }
    return { raw: res.data, value: parsed.data };
  }
}
