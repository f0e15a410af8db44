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

export const PromoteSchema = z
  .object({
    promoted_by: z.string().trim().min(1).max(200).default('anonymous'),
  })
  .strict();
export type PromotePayload = z.output<typeof PromoteSchema>;

/**
 * How an action reached the workflow. The gateway marks its signals `rest`; a signal without the
 * mark came straight through Temporal (the `temporal` CLI, the Web UI, an SDK client).
 */
export const ChannelSchema = z.enum(['rest', 'temporal']);
export type Channel = z.infer<typeof ChannelSchema>;
export interface ViaChannel {
  channel?: Channel;
}

export const AuditEntrySchema = z.object({
  action: z.enum(['start', 'approve', 'reject', 'promote', 'abort', 'cancel']),
  actor: z.string(),
  channel: ChannelSchema,
  at: z.string(),
  detail: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
