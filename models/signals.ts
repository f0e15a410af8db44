import { z } from 'zod';
import { ACTOR_MAX_LENGTH, NOTE_MAX_LENGTH } from '../core/decisionPayload';

export const ApproveSchema = z
  .object({
    approved_by: z.string().trim().min(1).max(ACTOR_MAX_LENGTH).default('anonymous'),
    comment: z.string().max(NOTE_MAX_LENGTH).optional(),
  })
  .strict();
export type ApprovePayload = z.output<typeof ApproveSchema>;

export const RejectSchema = z
  .object({
    rejected_by: z.string().trim().min(1).max(ACTOR_MAX_LENGTH).default('anonymous'),
    reason: z.string().max(NOTE_MAX_LENGTH).optional(),
  })
  .strict();
export type RejectPayload = z.output<typeof RejectSchema>;

export const AbortSchema = z
  .object({
    aborted_by: z.string().trim().min(1).max(ACTOR_MAX_LENGTH).default('anonymous'),
    reason: z.string().max(NOTE_MAX_LENGTH).optional(),
  })
  .strict();
export type AbortPayload = z.output<typeof AbortSchema>;

export const PromoteSchema = z
  .object({
    promoted_by: z.string().trim().min(1).max(ACTOR_MAX_LENGTH).default('anonymous'),
  })
  .strict();
export type PromotePayload = z.output<typeof PromoteSchema>;

/**
 * How an action reached the workflow, recorded by the workflow from the transport, never from the
 * payload: `rest` for the gateway's updates (their update ID carries the gateway's prefix), `temporal`
 * for every signal and for updates sent straight through Temporal (the `temporal` CLI, the Web UI, an
 * SDK client). A `channel` field in a payload is accepted for compatibility and ignored.
 */
export const ChannelSchema = z.enum(['rest', 'temporal']);
export type Channel = z.infer<typeof ChannelSchema>;
export interface ViaChannel {
  channel?: Channel;
  /** The gateway's deadline (ISO 8601): a decision the workflow takes in after it is refused. */
  valid_until?: string;
}

export const AuditEntrySchema = z.object({
  action: z.enum(['start', 'approve', 'reject', 'promote', 'abort', 'cancel']),
  actor: z.string(),
  channel: ChannelSchema,
  at: z.string(),
  detail: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
