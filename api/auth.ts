import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { HttpError } from './httpError';

export const ScopeSchema = z.enum(['read', 'start', 'approve']);
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

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
