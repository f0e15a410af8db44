import { z } from 'zod';

export const ApproveSchema = z
  .object({
    approved_by: z.string().trim().min(1).max(200).default('anonymous'),
    comment: z.string().max(2000).optional(),
  })
  .strict();
export type ApprovePayload = z.output<typeof ApproveSchema>;

export const RejectSchema = z
  .object({
    rejected_by: z.string().trim().min(1).max(200).default('anonymous'),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export type RejectPayload = z.output<typeof RejectSchema>;

export const AbortSchema = z
  .object({
    aborted_by: z.string().trim().min(1).max(200).default('anonymous'),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export type AbortPayload = z.output<typeof AbortSchema>;
