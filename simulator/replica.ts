import { ReplicaLease } from '../core/replicaLease';
import type { EngineArgs, ReplicaConfig } from '../models';
import { advanceAccumulated, emptyAccumulated } from './accumulator';
import { INITIAL_REVISION } from './degrade';
import type { Accumulated, EngineModel, Performance } from './engines/types';

/**
 * One simulated replica: what its agent reports (revision, engine args, pushes that changed it) and the
 * metrics its engine has accumulated. Counters persist across config pushes (the simulated agent's restart
 * keeps them), so rates over a window that spans a push stay non-negative.
 */
export class SimReplica {
  revision = INITIAL_REVISION;
  engineArgs: EngineArgs;
  configPushes = 0;
  readonly accumulated: Accumulated;
  /** Which rollout holds this replica, as its agent would keep it (docs/replica-leases.md). */
  readonly lease: ReplicaLease;
  private lastAdvancedMs: number;

  constructor(
    readonly index: number,
    readonly address: string,
    readonly engine: EngineModel,
    nowMs: number,
    leaseClock: () => number = Date.now,
  ) {
    this.lease = new ReplicaLease(leaseClock);
    this.engineArgs = { ...engine.defaultArgs };
    this.accumulated = emptyAccumulated(engine.histogramBuckets);
    this.lastAdvancedMs = nowMs;
  }

  config(): ReplicaConfig {
    return { revision: this.revision, engine: this.engine.engine, engine_args: { ...this.engineArgs } };
  }

  /** Grow counters and histograms from the last advance to `nowMs` at the steady state `perf`. */
  advance(nowMs: number, perf: Performance): void {
    const dt = (nowMs - this.lastAdvancedMs) / 1000;
    if (dt <= 0) return;
    advanceAccumulated(
      this.accumulated,
      this.engine.histogramBuckets,
      dt,
      this.engine.counterRates(perf),
      this.engine.observations(perf),
    );
    this.lastAdvancedMs = nowMs;
  }

  /**
   * Back to how the replica started: first revision and args, no pushes counted, no lease. The counters
   * keep growing (a scrape must never see them go down); the caller has advanced the clock.
   */
  reset(): void {
    this.revision = INITIAL_REVISION;
    this.engineArgs = { ...this.engine.defaultArgs };
    this.configPushes = 0;
    this.lease.release(undefined, true);
  }

  /** Switch to a new revision (the caller has validated the args and advanced the clock). */
  apply(revision: string, engineArgs: EngineArgs): void {
    this.revision = revision;
    this.engineArgs = { ...engineArgs };
    this.configPushes += 1;
  }
}
