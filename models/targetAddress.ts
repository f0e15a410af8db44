import { z } from 'zod';
import { parseTarget } from '../core/targetAddress';

/**
 * A deployment or replica address: `host:port`, or an `http(s)` URL with a host and an optional path
 * of plain segments (`http://10.0.0.7:8000/replicas/3`). Refused: spaces, control characters
 * (NUL, CR, LF), user information, `?` and `#`, other schemes, IPv4 not written as a.b.c.d, `.`/`..`
 * path segments. Whether the worker may send requests there is the allowlist's decision
 * (`SERVETUNE_ALLOWED_TARGETS`, core/targetAllowlist.ts), checked by the gateway after this schema.
 */
export const TargetAddressSchema = z
  .string({ invalid_type_error: 'must be a string: host:port or an http(s) URL' })
  .max(512)
  .superRefine((value, ctx) => {
    const parsed = parseTarget(value);
    if (!parsed.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(value.slice(0, 80))} ${parsed.problem}` });
  })
  .describe('host:port or an http(s) URL with a host and an optional path, e.g. `localhost:8000` or `http://10.0.0.7:8000/replicas/3`');

/** An http(s) URL of a server (a Prometheus): a target address written with its scheme. */
export const ServerUrlSchema = TargetAddressSchema.refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http(s) URL' });
