import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { HttpError } from './httpError';

/** `metrics` reads GET /metrics (unless SERVETUNE_METRICS_PUBLIC opens it). */
export const ScopeSchema = z.enum(['read', 'start', 'approve', 'metrics']);
export type Scope = z.infer<typeof ScopeSchema>;

export const ApiTokenSchema = z
  .object({
    token: z.string().min(16, 'tokens must be at least 16 characters'),
    subject: z.string().min(1).max(200),
    scopes: z.array(ScopeSchema).min(1),
  })
  .strict();
export type ApiToken = z.infer<typeof ApiTokenSchema>;

export interface Identity {
  subject: string;
  scopes: Scope[];
}

/** Who is calling; `authenticated` false means the gateway runs without tokens (loopback only). */
export interface Caller {
  authenticated: boolean;
  subject: string | null;
}

/**
 * Tokens come from `SERVETUNE_API_TOKENS` (`token:subject:scope+scope;…`) or from a JSON file named by
 * `SERVETUNE_API_TOKENS_FILE` (`[{"token", "subject", "scopes"}]`). Neither set: no tokens.
 */
export function loadTokens(env: NodeJS.ProcessEnv = process.env): ApiToken[] {
  const entries: unknown[] = [];
  if (env.SERVETUNE_API_TOKENS_FILE) entries.push(...z.array(z.unknown()).parse(JSON.parse(readFileSync(env.SERVETUNE_API_TOKENS_FILE, 'utf8'))));
  for (const item of (env.SERVETUNE_API_TOKENS ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const [token, subject, scopes] = item.split(':');
    entries.push({ token, subject, scopes: (scopes ?? '').split('+').filter(Boolean) });
  }
  return entries.map((e, i) => {
    const parsed = ApiTokenSchema.safeParse(e);
    if (!parsed.success) throw new Error(`API token #${i + 1} is invalid: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    return parsed.data;
  });
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Looks tokens up by constant-time comparison of their digests, so timing does not leak a prefix. */
export class TokenStore {
  private readonly entries: Array<{ digest: Buffer; identity: Identity }>;

  constructor(tokens: ApiToken[]) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), identity: { subject: t.subject, scopes: t.scopes } }));
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  identify(token: string): Identity | undefined {
    const d = digest(token);
    let found: Identity | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found = e.identity;
    return found;
  }
}

/** Express middleware: with tokens configured, a bearer token with `scope` is required. */
export function requireScope(store: TokenStore, scope: Scope) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!store.enabled) {
      // Without tokens only this machine may call: judged by the socket's real peer address, never a header or name.
      if (!isLoopbackAddress(req.socket.remoteAddress)) {
        return next(new HttpError(403, 'forbidden', 'Without API tokens the gateway answers only loopback clients', [{ field: 'authorization', message: 'configure API tokens to call from another host' }]));
      }
      res.locals.caller = { authenticated: false, subject: null } satisfies Caller;
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
    const identity = match ? store.identify(match[1]) : undefined;
    if (!identity) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="servetune"');
      return next(new HttpError(401, 'unauthenticated', match ? 'Unknown bearer token' : 'A bearer token is required', [{ field: 'authorization', message: 'missing or unknown bearer token' }]));
    }
    if (!identity.scopes.includes(scope)) {
      return next(new HttpError(403, 'forbidden', `Token of ${identity.subject} lacks the "${scope}" scope`, [{ field: 'authorization', message: `scope "${scope}" required` }]));
    }
    res.locals.caller = { authenticated: true, subject: identity.subject } satisfies Caller;
    next();
  };
}

/** The name recorded for an action: the token's subject when authenticated, else what the body says. */
export function actorName(caller: Caller, fromBody: string | undefined): string {
  return caller.authenticated && caller.subject ? caller.subject : fromBody ?? 'anonymous';
}

/**
 * Whether a socket address (the peer of a request, or the address a server is bound to) is this machine's
 * loopback: 127.0.0.0/8, ::1, or 127.x.x.x mapped into IPv6. Only IP literals count: a name such as
 * `127.example.com` or `localhost` is not an address, and can resolve anywhere.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(address) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(address);
}
