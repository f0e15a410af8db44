import type { ConfigRun } from '../../../core/fleetRef';
import { initialState } from '../../../core/rolloutState';
import { configKey } from '../../../core/tuningSearch';
import { snapshot } from '../../unit/core/snapshotFixture';
import type { AnalysisResult, EngineArgs, LoadMeasurement, RolloutRequest, StageRecord, WorkflowState } from '../../../models';

/**
 * A fleet of 4 replicas whose health is a known function of its args, standing in for the real
 * activities and rollouts. A rollout keeps a change only when it measurably helps (as a rollout with
 * `require_improvement` does) and puts the replicas back otherwise; args it refuses end as an engine
 * refusal does (rolled back before any sample).
 */
export class FakeFleet {
  args: EngineArgs = { mem_fraction_static: 0.88, schedule_conservativeness: 1.0, chunked_prefill_size: 8192 };
  /** How often each configuration was rolled out. */
  readonly attempts = new Map<string, number>();
  hold = false;
  /** When set, what a window of `replicas` replicas on `args` measures: the probe's load and each stage's. */
  load: ((args: EngineArgs, replicas: number) => LoadMeasurement) | null = null;

  constructor(
    private readonly score: (args: EngineArgs) => number,
    private readonly refuses: (args: EngineArgs) => boolean = () => false,
  ) {}

  analysis(): AnalysisResult {
    const metrics = snapshot({ kv_cache_usage: (this.args.mem_fraction_static as number) < 0.93 ? 0.97 : 0.5, preemptions_per_second: (this.args.mem_fraction_static as number) < 0.93 ? 2 : 0 });
    const bottlenecks = (this.args.mem_fraction_static as number) < 0.93 ? [{ kind: 'kv_cache_pressure', metric: 'kv_cache_usage', value: 0.97, threshold: 0.9, description: 'KV full' }] : [];
    const load = this.load?.(this.args, 4);
    if (load) {
      Object.assign(metrics, { replicas: 4, request_rate: load.offered_rps, error_rate: 1 - load.served_rps / load.offered_rps, requests_waiting: (load.waiting_per_replica ?? 0) * 4 });
    }
    return { bottlenecks, overall_health_score: this.score(this.args), health_components: [], metrics };
  }

  rollout(input: RolloutRequest): WorkflowState {
    const before = this.score(this.args);
    const next: EngineArgs = { ...this.args, ...input.plan_override!.engine_args };
    const key = configKey(next);
    this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
    const state = initialState(`rollout-fake-${this.attempts.size}`, input, new Date().toISOString());
    const optimizations = Object.entries(input.plan_override!.engine_args).map(([parameter, proposed]) => ({
      parameter, current: this.args[parameter] ?? null, proposed, reason: 'r', addresses: 'explicit step', expected_improvement_pct: [0, 0] as [number, number], source: 's',
    }));
    state.analysis_result = this.analysis();
    state.optimization_plan = { optimizations, estimated_total_improvement: '0%', engine_args: next, revision: 'rev' };
    const replicas = ['r0', 'r1', 'r2', 'r3'];
    if (this.refuses(next)) {
      state.rollout_history = [stage(replicas.slice(0, 1), null, 0, null)];
      return { ...state, status: 'rolled_back', error_message: 'applying config to r0: HTTP 400 refused, rolled back changes' };
    }
    const after = this.score(next);
    if (after > before + 0.5) {
      this.args = next;
      state.rollout_history = [stage(replicas, after, 2, this.load?.(next, 4) ?? null)];
      return { ...state, status: 'completed', final_health_score: after, total_improvement: `${before} → ${after}` };
    }
    state.rollout_history = [stage(replicas.slice(0, 2), after, 2, this.load?.(next, 2) ?? null)];
    return { ...state, status: 'rolled_back', error_message: `not better than the baseline (${after} ≤ ${before}), rolled back changes` };
  }

  activities() {
    return {
      discoverReplicas: async () => ({ replicas: ['r0', 'r1', 'r2', 'r3'], digest: 'd' }),
      readReplicaConfigs: async (): Promise<ConfigRun[]> => [{ from: 0, to: 4, revision: 'initial', engine: 'sglang', engine_args: { ...this.args } }],
      sampleFleet: async () => ({}),
      analyzePerformance: async () => this.analysis(),
      fakeRollout: async (input: RolloutRequest) => this.rollout(input),
      holdRollout: async () => this.hold,
    };
  }
}

export type FakeFleetActivities = ReturnType<FakeFleet['activities']>;

function stage(replicas: string[], after: number | null, samples: number, load: LoadMeasurement | null): StageRecord {
  return {
    load,
    stage: 's', percentage: 100, status: after === null ? 'failed' : 'success', started_at: '', completed_at: '', health_score_before: null, health_score_after: after,
    replicas, samples: Array.from({ length: samples }, () => ({ at: '', health_score: after })), canary_judgement: null, decision: null,
  };
}
