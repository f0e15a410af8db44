import type { AnalysisResult, CapacityVerdict, DecisionLogEntry, EngineArgs, EngineType, LoadMeasurement, Slo, TuningConstraint, WorkflowState } from '../models';
import { capacityCorner, cornerFlags } from './capacityCorner';
import { capacityVerdict, cornerDue, loadOf, saturationOf } from './capacityVerdict';
import { lastMeasuredLoad } from './tuningProgress';
import type { Candidate } from './tuningSearch';

/**
 * Where the capacity verdict sits in a tuning iteration: after the probe, before the search. A probe
 * that finds the fleet saturated counts; after enough consecutive ones the iteration's step is the
 * corner of the bounds (a normal staged, gated, reversible rollout), or, when the fleet already runs the
 * corner, the probe itself is the corner's window. After the corner's rollout, its own last measured
 * stage decides.
 */
export interface CapacityStepInput {
  engine: EngineType;
  currentArgs: EngineArgs;
  analysis: AnalysisResult;
  log: DecisionLogEntry[];
  constraints: TuningConstraint[];
  /** Consecutive saturated probes before this one. */
  saturatedProbes: number;
  slo: Slo;
  target: number;
}

export interface CapacityStep {
  /** Consecutive saturated probes, this one included. */
  saturatedProbes: number;
  /** This probe's load (the deployment's), for the verdict after the corner's rollout. */
  probeLoad: LoadMeasurement | null;
  /** The corner to roll out now, or null to search as usual. */
  candidate: Candidate | null;
  /** Proved from the probe alone: the fleet already runs the corner. */
  verdict: CapacityVerdict | null;
}

export function capacityStep(input: CapacityStepInput): CapacityStep {
  const { analysis, slo, target } = input;
  const probeLoad = loadOf(analysis.metrics);
  const saturation = saturationOf(probeLoad, slo, target);
  const saturatedProbes = saturation.saturated ? input.saturatedProbes + 1 : 0;
  const none: CapacityStep = { saturatedProbes, probeLoad, candidate: null, verdict: null };
  if (!probeLoad || !cornerDue(saturatedProbes, input.log)) return none;
  const corner = capacityCorner(input.engine, input.currentArgs, analysis.engine_facts, input.constraints);
  if (!corner) return none;
  if (corner.changes.length === 0) {
    const verdict = capacityVerdict({
      probe: probeLoad,
      corner: probeLoad,
      cornerArgs: cornerValues(input.engine, corner.args),
      cornerHealth: analysis.overall_health_score,
      rolloutId: null,
      slo,
      target,
    });
    return { ...none, verdict };
  }
  const evidence = `capacity: saturated in ${saturatedProbes} consecutive probes (${saturation.reason}); trying the corner of the bounds`;
  return { ...none, candidate: { source: 'capacity', changes: corner.changes, evidence } };
}

/** The verdict from the corner's rollout (its last stage that measured the changed replicas' load), or null. */
export function verdictAfterCorner(input: {
  engine: EngineType;
  probeLoad: LoadMeasurement;
  cornerArgs: EngineArgs;
  rolloutId: string;
  rollout: WorkflowState;
  slo: Slo;
  target: number;
}): CapacityVerdict | null {
  const measured = lastMeasuredLoad(input.rollout);
  if (!measured) return null;
  return capacityVerdict({
    probe: input.probeLoad,
    corner: measured.load,
    cornerArgs: cornerValues(input.engine, input.cornerArgs),
    cornerHealth: measured.health,
    rolloutId: input.rolloutId,
    slo: input.slo,
    target: input.target,
  });
}

/** The corner's flags as the args set them (flags left to the engine are left out). */
export function cornerValues(engine: EngineType, args: EngineArgs): EngineArgs {
  return Object.fromEntries(cornerFlags(engine).flatMap((f) => (args[f.flag] === undefined || args[f.flag] === null ? [] : [[f.flag, args[f.flag]]])));
}
