import { z } from 'zod';
import { EngineArgsSchema, EngineTypeSchema } from './engine';

/** `GET {replica}/servetune/v1/config`: what a replica's agent reports it runs. */
export const ReplicaConfigSchema = z.object({
  revision: z.string().min(1),
  engine: EngineTypeSchema,
  engine_args: EngineArgsSchema,
});
export type ReplicaConfig = z.infer<typeof ReplicaConfigSchema>;

import { MAX_LEASE_SECONDS } from '../core/replicaLease';

export { MAX_LEASE_SECONDS };

/**
 * `PUT {replica}/servetune/v1/config`: the same revision twice is a no-op on the agent.
 * `holder` (the rollout's workflow id) claims the replica for `lease_seconds`; both are optional so
 * pushes from older workers (and the activity inputs of older histories) still parse.
 */
export const ConfigPushSchema = z.object({
  revision: z.string().min(1).max(256),
  engine_args: EngineArgsSchema,
  holder: z.string().min(1).max(512).optional(),
  lease_seconds: z.number().int().positive().max(MAX_LEASE_SECONDS).optional(),
});
export type ConfigPush = z.infer<typeof ConfigPushSchema>;

/** `GET {deployment}/servetune/v1/replicas`: discovery. */
export const ReplicaListSchema = z.object({
  replicas: z.array(z.string().min(1)),
});
export type ReplicaList = z.infer<typeof ReplicaListSchema>;

/** Who holds a replica's lease (`GET /servetune/v1/lease`, and every lease answer): null holder when free. */
export const LeaseStateSchema = z.object({
  holder: z.string().nullable(),
  /** ISO time the lease lapses; null when free. */
  expires_at: z.string().nullable(),
});
export type LeaseState = z.infer<typeof LeaseStateSchema>;

/** 409 `lease_held`: a push or release refused because another rollout holds the replica. */
export const LeaseHeldBodySchema = z.object({
  error: z.object({
    code: z.literal('lease_held'),
    message: z.string(),
    details: z.array(z.object({ field: z.string(), message: z.string() })),
  }),
  lease: z.object({ holder: z.string(), expires_at: z.string() }),
});
export type LeaseHeldBody = z.infer<typeof LeaseHeldBodySchema>;

/** `DELETE /servetune/v1/lease`: whether a lease was released, and who holds the replica now. */
export const LeaseReleaseSchema = z.object({
  released: z.boolean(),
  /** The holder whose lease ended (null: there was none to release). */
  released_holder: z.string().nullable(),
  lease: LeaseStateSchema,
});
export type LeaseRelease = z.infer<typeof LeaseReleaseSchema>;
