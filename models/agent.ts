import { z } from 'zod';
import { EngineArgsSchema, EngineTypeSchema } from './engine';

/** `GET {replica}/servetune/v1/config`: what a replica's agent reports it runs. */
export const ReplicaConfigSchema = z.object({
  revision: z.string().min(1),
  engine: EngineTypeSchema,
  engine_args: EngineArgsSchema,
});
export type ReplicaConfig = z.infer<typeof ReplicaConfigSchema>;

/** `PUT {replica}/servetune/v1/config`: the same revision twice is a no-op on the agent. */
export const ConfigPushSchema = z.object({
  revision: z.string().min(1).max(256),
  engine_args: EngineArgsSchema,
});
export type ConfigPush = z.infer<typeof ConfigPushSchema>;

/** `GET {deployment}/servetune/v1/replicas`: discovery. */
export const ReplicaListSchema = z.object({
  replicas: z.array(z.string().min(1)),
});
export type ReplicaList = z.infer<typeof ReplicaListSchema>;
