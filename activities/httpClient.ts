/**
 * The one HTTP client the activities use to reach replicas, discovery routes and Prometheus. The
 * worker never trusts its input (request fields, discovery answers, metric source URLs), so every
 * request is checked here, where it is sent:
 * - the URL must parse as a target and be allowed (`SERVETUNE_ALLOWED_TARGETS`), before any I/O;
 * - a host name's resolved addresses are checked in the agent's `lookup`, i.e. the addresses
 *   actually connected to, so a name that re-resolves to a metadata address is refused (rebinding);
 * - no redirect is followed (a 3xx is an error naming its status), no proxy is used;
 * - a total deadline per request (not an idle timeout: a replica dribbling one byte every second
 *   cannot hold it), combined with the activity's cancellation signal so an abort stops it at once;
 * - response bodies are capped (`SERVETUNE_MAX_RESPONSE_BYTES`) while they stream in;
 * - no keep-alive: each socket is closed when its request ends.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Context } from '@temporalio/activity';
import axios, { isAxiosError, isCancel, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { parseTarget, targetUrl } from '../core/targetAddress';
import { checkResolvedAddress, checkTarget, type Allowlist } from '../core/targetAllowlist';
import type { HttpLimits } from '../runtime/targetSettings';

/** A request the allowlist or the target rules refuse: retrying cannot help. */
export class TargetRefusedError extends Error {
  readonly code = 'ETARGETREFUSED';
}

/** No complete answer within the request's deadline. */
export class DeadlineExceededError extends Error {
  readonly code = 'EDEADLINE';
}

/** The answer is larger than the cap. */
export class ResponseTooLargeError extends Error {
  readonly code = 'ERESPONSETOOLARGE';
}

/** `dns.lookup`'s shape, with `all: true`; tests inject one to make names resolve where they want. */
export type ResolveAll = (hostname: string, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

export interface TargetHttpOptions extends HttpLimits {
  allowlist: Allowlist;
  /** How host names are resolved; `dns.lookup` by default. */
  resolve?: ResolveAll;
}

const systemResolve: ResolveAll = (hostname, callback) => dns.lookup(hostname, { all: true, verbatim: true }, callback);

/** Resolves like `dns.lookup`, refusing when any address the name resolves to is not allowed. */
export function guardedLookup(allowlist: Allowlist, resolve: ResolveAll = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
      for (const a of wanted) {
        const problem = checkResolvedAddress(hostname, a.address, allowlist);
        if (problem) return callback(new TargetRefusedError(`${hostname} ${problem}`) as NodeJS.ErrnoException, '', 0);
      }
      if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return callback(null, wanted);
      return callback(null, wanted[0].address, wanted[0].family);
    });
  };
}

/** The target a request goes to, or a `TargetRefusedError` saying why it may not. */
export function assertAllowedUrl(url: string, allowlist: Allowlist): string {
  const shown = JSON.stringify(url.slice(0, 120));
  const parsed = parseTarget(url);
  if (!parsed.ok) throw new TargetRefusedError(`target ${shown} refused: ${parsed.problem}`);
  const decision = checkTarget(parsed.target, allowlist);
  if (!decision.allowed) throw new TargetRefusedError(`target ${targetUrl(parsed.target)} refused: ${decision.reason}`);
  return targetUrl(parsed.target);
}

/** The running activity's cancellation signal, or undefined outside an activity (tests, the CLI). */
function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

interface Deadline {
  ms: number;
  signal: AbortSignal;
}
const deadlines = new WeakMap<object, Deadline>();

export function createTargetHttpClient(opts: TargetHttpOptions): AxiosInstance {
  const lookup = guardedLookup(opts.allowlist, opts.resolve);
  const client = axios.create({
    httpAgent: new http.Agent({ keepAlive: false, lookup }),
    httpsAgent: new https.Agent({ keepAlive: false, lookup }),
    maxRedirects: 0,
    proxy: false,
    maxContentLength: opts.maxResponseBytes,
    maxBodyLength: opts.maxResponseBytes,
  });

  client.interceptors.request.use((config: InternalAxiosRequestConfig) => {
    assertAllowedUrl(config.url ?? '', opts.allowlist);
    // A request's `timeout` is its total deadline here (pushes pass a longer one), never an idle timeout.
    const ms = config.timeout && config.timeout > 0 ? config.timeout : opts.readDeadlineMs;
    const deadline = AbortSignal.timeout(ms);
    const signals = [deadline, config.signal as AbortSignal | undefined, activityCancellation()].filter((s): s is AbortSignal => s !== undefined);
    config.signal = AbortSignal.any(signals);
    config.timeout = 0;
    config.maxRedirects = 0;
    deadlines.set(config, { ms, signal: deadline });
    return config;
  });

  client.interceptors.response.use(undefined, (err: unknown) => {
    if (isCancel(err) || (isAxiosError(err) && err.code === 'ERR_CANCELED')) {
      const config = (err as { config?: object }).config;
      const deadline = config ? deadlines.get(config) : undefined;
      const cancelled = activityCancellation();
      if (cancelled?.aborted) throw cancelled.reason ?? err;
      if (deadline?.signal.aborted) throw new DeadlineExceededError(`no complete answer within the ${deadline.ms} ms deadline`);
      throw err;
    }
    if (isAxiosError(err) && /maxContentLength size of/.test(err.message)) {
      const cap = err.config?.maxContentLength ?? opts.maxResponseBytes;
      throw new ResponseTooLargeError(`answer larger than the ${cap}-byte cap${cap === opts.maxResponseBytes ? ' (SERVETUNE_MAX_RESPONSE_BYTES)' : ''}`);
    }
    const cause = isAxiosError(err) ? (err.cause ?? err) : err;
    if (cause instanceof TargetRefusedError) throw cause;
    throw err;
  });
  return client;
}
