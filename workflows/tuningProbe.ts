import { sleep } from '@temporalio/workflow';
import type { AnalysisResult, EngineArgs, TuningRequest } from '../models';
import { withDefaults } from '../core/healthScore';
import { mixedConfigProblem } from '../core/uniformConfig';
import { reads } from './activityProxies';

/** The baseline window before each iteration, as a rollout's own (its monitoring windows carry the evidence). */
const MAX_PROBE_SECONDS = 5;

export type Probe = { analysis: AnalysisResult; args: EngineArgs } | { problem: string };

/**
 * What the fleet runs and how it does now: the tuning run's view before it picks the next step (the
 * rules need today's bottlenecks; the fleet's args may have changed with the last kept rollout).
 */
export async function probeFleet(req: TuningRequest): Promise<Probe> {
  const discovered = await reads.discoverReplicas({ instance_id: req.instance_id, replicas: req.replicas });
  const fleet = { instance_id: req.instance_id, replicas: req.replicas, count: discovered.replicas.length, digest: discovered.digest };
  const configs = await reads.readReplicaConfigs({ fleet });
  const mixed = mixedConfigProblem(configs);
  if (mixed) return { problem: mixed };
  const range = { from: 0, to: fleet.count };
  const start = await reads.sampleFleet({ engine: req.instance_type, fleet, range, source: req.metrics_source });
  await sleep(Math.round(Math.min(req.monitoring_duration_seconds, MAX_PROBE_SECONDS) * 1000));
  const end = await reads.sampleFleet({ engine: req.instance_type, fleet, range, source: req.metrics_source });
  const analysis = await reads.analyzePerformance({ start, end, slo: withDefaults(req.slo) });
  return { analysis, args: configs[0].engine_args };
}
