import type { ZodError } from 'zod';
import type { ErrorBody } from '../models';

/** An error that maps to one HTTP answer with DESIGN.md's error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorBody['error']['details'] = [],
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** `slo.ttft_p95_ms`, `replicas[3]`. */
function fieldPath(path: (string | number)[]): string {
  if (path.length === 0) return '(body)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Every offending field is named, so a client can fix all of them in one go. */
export function validationError(err: ZodError, where = 'request body'): HttpError {
  const details = err.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), message: 'unknown field' }));
    }
    return [{ field: fieldPath(issue.path), message: issue.message }];
  });
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return new HttpError(400, 'invalid_request', `Invalid ${where}: ${fields}`, details);
}
