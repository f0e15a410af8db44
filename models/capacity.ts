import { z } from 'zod';
import { EngineArgsSchema } from './engine';

/**
 * What one window measured about the load a set of replicas got and how much of it they served, from
 * the engine's own counters: requests that ended (finished or aborted) per second, those that ended
 * without an error, and the standing queue. Ended requests are a lower bound of the offered load
 * (arrivals still queued at the window's end are not counted), so "served below offered" is never
 * overstated.
 */
export const LoadMeasurementSchema = z.object({
  replicas: z.number().int().nonnegative(),
  window_seconds: z.number().nonnegative(),
  /** Requests that ended in the window, per second (finished or aborted): the load offered, at least. */
  offered_rps: z.number().nonnegative(),
  /** Requests that ended without an error, per second. */
  served_rps: z.number().nonnegative(),
  /** Requests waiting for admission per replica at the window's end (null when the engine does not say). */
  waiting_per_replica: z.number().nullable(),
});
export type LoadMeasurement = z.infer<typeof LoadMeasurementSchema>;

/**
 * A tuning run's proof that the fleet is past its capacity: measured at the configuration with the most
 * capacity the flags' bounds allow (the "corner"), the replicas served less than they were offered, by
 * more than any configuration in bounds could make up (docs/tuning.md#capacity-verdict).
 */
export const CapacityVerdictSchema = z.object({
  /** The rollout that measured the corner, or null when the fleet already ran it (the probe measured it). */
  rollout_id: z.string().nullable(),
  /** The corner's flags: the largest capacity the bounds allow. */
  corner_args: EngineArgsSchema,
  replicas: z.number(),
  /** Deployment-wide requests per second, measured by the probe before the corner. */
  offered_rps: z.number(),
  /** At the corner, per replica: what it was offered and what it served. */
  corner_offered_rps_per_replica: z.number(),
  corner_served_rps_per_replica: z.number(),
  /** The health score the corner's replicas reached in that window. */
  corner_health: z.number().nullable(),
  /** How much more than the corner any configuration in bounds is granted to serve (the argument's margin). */
  capacity_margin: z.number(),
  /** The least error rate a configuration serving margin × the corner's throughput would still show. */
  min_error_rate: z.number(),
  /** The best health score that error rate allows, every other SLO component perfect. */
  health_ceiling: z.number(),
  /** Replicas the offered load needs at the corner's measured throughput: ceil(offered / served per replica). */
  replicas_needed: z.number(),
  /** The argument, in words. */
  argument: z.string(),
});
export type CapacityVerdict = z.infer<typeof CapacityVerdictSchema>;
