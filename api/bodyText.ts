import { isUtf8 } from 'node:buffer';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './httpError';

/**
 * express.json's `verify` hook: the raw body must be valid UTF-8. body-parser would otherwise decode
 * invalid bytes as U+FFFD and accept a body other than the one sent.
 */
export function requireUtf8(_req: unknown, _res: unknown, raw: Buffer): void {
  if (!isUtf8(raw)) {
    throw new HttpError(400, 'invalid_json', 'Request body is not valid UTF-8', [{ field: '(body)', message: 'invalid UTF-8 byte sequence' }]);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The path of the first key or string in a parsed JSON value holding a lone UTF-16 surrogate (a JSON
 * escape such as "\ud800" that is half a character), or null. Such text is no Unicode string: it cannot
 * be stored or encoded faithfully, so it is refused.
 */
export function loneSurrogatePath(value: unknown, path: string[] = []): string | null {
  const here = () => (path.length === 0 ? '(body)' : path.join('.'));
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? here() : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key)) return [...path, key].join('.');
    const found = loneSurrogatePath(child, [...path, key]);
    if (found) return found;
  }
  return null;
}

/** After express.json: a body with a lone surrogate is 400 naming the field. */
export function refuseLoneSurrogates(req: Request, _res: Response, next: NextFunction): void {
  const field = loneSurrogatePath(req.body);
  if (field === null) return next();
  next(new HttpError(400, 'invalid_json', `Request body has a lone UTF-16 surrogate in ${field}; text must be valid Unicode`, [{ field, message: 'lone surrogate (invalid Unicode)' }]));
}
