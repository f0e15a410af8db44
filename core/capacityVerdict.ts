import type { CapacityVerdict, DecisionLogEntry, EngineArgs, LoadMeasurement, Slo, Snapshot } from '../models';
import { healthCeiling } from './healthScore';

/**
 * The capacity verdict (docs/tuning.md#capacity-verdict): when a fleet is past its capacity no engine
 * flag meets the SLO; it needs more replicas. Everything here reads measurements a real engine gives
 * (requests ended, requests aborted, requests waiting), never a model's internals.
 */

/**
 * How much more than the corner any configuration in bounds is granted to serve. The corner sets only
 * the flags whose capacity is monotone; the others (scheduling, chunking, admission caution) may still
 * move throughput, and the verdict holds only if even this much more would not serve the load.
 */
export const CAPACITY_MARGIN = 1.5;
/** A standing queue: at least this many requests waiting per replica at the window's end. */
export const STANDING_QUEUE_PER_REPLICA = 1;
/** Consecutive saturated probes (windows) before the corner is tried: one bad window is not saturation. */
export const SATURATED_PROBES_FOR_CORNER = 2;

/** The load a window measured, or null when it measured none (no request ended, or errors are not reported). */
export function loadOf(s: Snapshot): LoadMeasurement | null {
  if (s.request_rate === null || s.error_rate === null || s.replicas <= 0) return null;
  const errors = Math.min(1, Math.max(0, s.error_rate));
  return {
    replicas: s.replicas,
    window_seconds: s.window_seconds,
    offered_rps: s.request_rate,
    served_rps: s.request_rate * (1 - errors),
    waiting_per_replica: s.requests_waiting === null ? null : s.requests_waiting / s.replicas,
  };
}

export interface Saturation {
  saturated: boolean;
  /** The least error rate, were the replicas to serve `margin` × what they served. */
  minErrorRate: number;
  /** The best health score that error rate allows. */
  ceiling: number;
  reason: string;
}

/**
 * Whether a window shows a fleet past its capacity: a standing queue, and so much of the offered load
 * unserved — even granting the replicas `margin` times their throughput — that the error component
 * alone keeps the health score below `target`.
 */
export function saturationOf(load: LoadMeasurement | null, slo: Slo, target: number, margin = 1): Saturation {
  if (!load || load.offered_rps <= 0) return { saturated: false, minErrorRate: 0, ceiling: 100, reason: 'no load measured' };
  const minErrorRate = Math.min(1, Math.max(0, 1 - (margin * load.served_rps) / load.offered_rps));
  const ceiling = healthCeiling('error_rate', minErrorRate, slo);
  if (load.waiting_per_replica === null || load.waiting_per_replica < STANDING_QUEUE_PER_REPLICA) {
    return { saturated: false, minErrorRate, ceiling, reason: `no standing queue (${describeQueue(load)})` };
  }
  const saturated = ceiling < target;
  const served = `served ${fmt(load.served_rps)} of ${fmt(load.offered_rps)} rps${margin !== 1 ? ` (×${margin}: ${fmt(margin * load.served_rps)})` : ''}`;
  return {
    saturated,
    minErrorRate,
    ceiling,
    reason: saturated
      ? `${served}, ${describeQueue(load)}: at least ${pct(minErrorRate)} unserved caps the health score at ${fmt(ceiling)} < ${target}`
      : `${served}: the unserved share alone allows a health score of ${fmt(ceiling)} ≥ ${target}`,
  };
}

/** Whether this iteration tries the corner: the fleet saturated over enough consecutive probes, and no corner tried yet in this run. */
export function cornerDue(saturatedProbes: number, log: DecisionLogEntry[]): boolean {
  return saturatedProbes >= SATURATED_PROBES_FOR_CORNER && !log.some((e) => e.source === 'capacity');
}

export interface VerdictInput {
  /** The probe before the corner: the deployment-wide load. */
  probe: LoadMeasurement;
  /** The corner's own window (its changed replicas). */
  corner: LoadMeasurement;
  cornerArgs: EngineArgs;
  cornerHealth: number | null;
  rolloutId: string | null;
  slo: Slo;
  target: number;
}

/**
 * The verdict, or null when the corner's window does not prove it (the corner served enough, the queue
 * did not stand, or nothing was measured). The run then goes on as usual.
 */
export function capacityVerdict(input: VerdictInput): CapacityVerdict | null {
  const { probe, corner, slo, target } = input;
  const sat = saturationOf(corner, slo, target, CAPACITY_MARGIN);
  if (!sat.saturated || corner.replicas <= 0 || probe.replicas <= 0) return null;
  const servedEach = corner.served_rps / corner.replicas;
  const offeredEach = corner.offered_rps / corner.replicas;
  if (!(servedEach > 0)) return null;
  const needed = Math.ceil(probe.offered_rps / servedEach);
  if (needed <= probe.replicas) return null;
  const corner_args = input.cornerArgs;
  const flags = Object.entries(corner_args)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  const argument =
    `At the largest capacity the bounds allow (${flags || 'the current args'}) a replica served ≤ ${fmt(servedEach)} rps of the ${fmt(offeredEach)} rps it was offered, ` +
    `with ${fmt(corner.waiting_per_replica ?? 0)} requests waiting each; the deployment is offered ${fmt(probe.offered_rps)} rps over ${probe.replicas} replicas. ` +
    `Even ${CAPACITY_MARGIN}× that throughput leaves ≥ ${pct(sat.minErrorRate)} of requests unserved, which caps the health score at ${fmt(sat.ceiling)} < ${target}: ` +
    `no configuration in the flags' bounds serves the load (capacity assumed monotone in the corner's flags). ` +
    `At that throughput the load needs ${needed} replicas (${probe.replicas} run).`;
  return {
    rollout_id: input.rolloutId,
    corner_args,
    replicas: probe.replicas,
    offered_rps: round(probe.offered_rps),
    corner_offered_rps_per_replica: round(offeredEach),
    corner_served_rps_per_replica: round(servedEach),
    corner_health: input.cornerHealth,
    capacity_margin: CAPACITY_MARGIN,
    min_error_rate: round(sat.minErrorRate),
    health_ceiling: round(sat.ceiling),
    replicas_needed: needed,
    argument,
  };
}

function describeQueue(load: LoadMeasurement): string {
  return load.waiting_per_replica === null ? 'queue not reported' : `${fmt(load.waiting_per_replica)} waiting per replica`;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function fmt(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function pct(v: number): string {
  return `${(Math.round(v * 1000) / 10).toFixed(1)} %`;
}
