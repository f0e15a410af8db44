import { z } from 'zod';
import { EngineArgsSchema, EngineTypeSchema } from './engine';

/** `POST {deployment}/sim/v1/faults` */
export const FaultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('degrade_new_config'),
      min_fraction: z.number().min(0).max(1).default(0),
      severity: z.number().min(0).max(10).default(0.4),
    })
    .strict(),
  z.object({ kind: z.literal('unreachable'), replicas: z.array(z.string()) }).strict(),
  z.object({ kind: z.literal('apply_error'), replicas: z.array(z.string()) }).strict(),
  z.object({ kind: z.literal('malformed_metrics'), replicas: z.array(z.string()) }).strict(),
]);
export type Fault = z.infer<typeof FaultSchema>;

/** `PUT {deployment}/sim/v1/load`: the offered load, split evenly across the deployment's replicas. */
export const LoadSchema = z
  .object({
    requests_per_second: z.number().finite().min(0).max(1e6),
    prompt_tokens: z.number().finite().min(1).max(1e6),
    output_tokens: z.number().finite().min(1).max(1e6),
    shared_prefix_fraction: z.number().min(0).max(1),
  })
  .strict();
export type Load = z.infer<typeof LoadSchema>;

export const SimReplicaStateSchema = z.object({
  address: z.string(),
  revision: z.string(),
  engine_args: EngineArgsSchema,
  config_pushes: z.number().int(),
});

/** `GET {deployment}/sim/v1/state` */
export const SimStateSchema = z.object({
  replicas: z.array(SimReplicaStateSchema),
  faults: z.array(FaultSchema),
  load: LoadSchema,
});
export type SimState = z.infer<typeof SimStateSchema>;

/**
 * `POST {deployment}/sim/v1/reset`: which deployments of this simulator go back to how they started
 * (first config, no faults, default load, no replica lease), named by engine; none named: all of them.
 */
export const SimResetSchema = z
  .object({ deployments: z.array(EngineTypeSchema).min(1).optional() })
  .strict();
export type SimReset = z.infer<typeof SimResetSchema>;
