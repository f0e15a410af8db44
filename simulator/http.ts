import type { Response } from 'express';
import type { ZodError, ZodIssue } from 'zod';
import type { ErrorBody } from '../models';

export interface Detail {
  field: string;
  message: string;
}

function fieldOf(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return 'body';
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** One detail per offending field; unknown keys get one detail each, named by the key. */
export function zodDetails(error: ZodError): Detail[] {
  return error.issues.flatMap((issue: ZodIssue) => {
    if (issue.code === 'unrecognized_keys') {
      const prefix = fieldOf(issue.path);
      return issue.keys.map((k) => ({
        field: prefix === 'body' ? k : `${prefix}.${k}`,
        message: `unknown field: ${k}`,
      }));
    }
    return [{ field: fieldOf(issue.path), message: issue.message }];
  });
}

export function sendError(res: Response, status: number, code: string, message: string, details: Detail[] = []): void {
  const body: ErrorBody = { error: { code, message, details } };
  res.status(status).json(body);
}

/** 400 `invalid_request` with the first problem in the message and all of them in `details`. */
export function sendInvalid(res: Response, details: Detail[], code = 'invalid_request'): void {
  const first = details[0];
  const message = first ? `${first.field}: ${first.message}` : 'invalid request';
  sendError(res, 400, code, message, details);
}
