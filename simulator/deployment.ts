import type { ConfigPush, Fault, Load, ReplicaConfig, SimState } from '../models';
import { degradePerformance, degradeSeverity, INITIAL_REVISION } from './degrade';
import { REFERENCE_REPLICAS, type ArgIssue, type EngineModel, type Performance } from './engines/types';
import { SimReplica } from './replica';

type ReplicaFaultKind = 'unreachable' | 'apply_error' | 'malformed_metrics';

interface StoredFault {
  fault: Fault;
  /** Replica indices a per-replica fault targets (empty for degrade_new_config). */
  indices: ReadonlySet<number>;
}

export type PushResult =
  | { status: 200; config: ReplicaConfig; changed: boolean }
  | { status: 400; issues: ArgIssue[] }
  | { status: 422; reason: string };

export interface SimDeploymentOptions {
  engine: EngineModel;
  /** Deployment root URL, e.g. http://127.0.0.1:8000 (no trailing slash). */
  baseUrl: string;
  replicas: number;
  /** Monotonic clock in milliseconds (performance.now() by default). */
  now: () => number;
  /** Wall clock of the replicas' leases (their expiry is a time of day); Date.now by default. */
  leaseClock?: () => number;
}

/**
 * One simulated deployment: its replicas, the offered load and the active faults. All state changes
 * first advance every replica's metrics to "now" at the old steady state, so counters integrate the
 * piecewise-constant rates exactly.
 */
export class SimDeployment {
  readonly engine: EngineModel;
  readonly baseUrl: string;
  readonly replicas: readonly SimReplica[];
  private readonly now: () => number;
  private load: Load;
  private readonly initialLoad: Load;
  private faults: StoredFault[] = [];
  private readonly perfCache = new Map<string, Performance>();

  constructor(opts: SimDeploymentOptions) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 1) throw new Error(`replicas must be a positive integer, got ${opts.replicas}`);
    this.engine = opts.engine;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.now = opts.now;
    const dl = opts.engine.defaultLoad;
    this.initialLoad = { ...dl, requests_per_second: (dl.requests_per_second * opts.replicas) / REFERENCE_REPLICAS };
    this.load = { ...this.initialLoad };
    const t = this.now();
    this.replicas = Array.from({ length: opts.replicas }, (_, i) => new SimReplica(i, `${this.baseUrl}/replicas/${i}`, opts.engine, t, opts.leaseClock));
  }

  addresses(): string[] {
    return this.replicas.map((r) => r.address);
  }

  replica(index: number): SimReplica | undefined {
    return Number.isInteger(index) ? this.replicas[index] : undefined;
  }

  /** A replica named by its address, its `/replicas/<i>` path, or its index ("3"). */
  resolveReplicaRef(ref: string): number | undefined {
    const trimmed = ref.trim().replace(/\/+$/, '');
    const exact = this.replicas.findIndex((r) => r.address === trimmed);
    if (exact >= 0) return exact;
    if (/^\d+$/.test(trimmed)) return this.replica(Number(trimmed)) ? Number(trimmed) : undefined;
    const m = /\/replicas\/(\d+)$/.exec(trimmed);
    if (!m) return undefined;
    if (/^[a-z]+:\/\//i.test(trimmed)) {
      // A full URL must point at this deployment's port.
      try {
        if (new URL(trimmed).port !== new URL(this.baseUrl).port) return undefined;
      } catch {
        return undefined;
      }
    }
    return this.replica(Number(m[1])) ? Number(m[1]) : undefined;
  }

  getLoad(): Load {
    return { ...this.load };
  }

  setLoad(load: Load): void {
    this.advanceAll();
    this.load = { ...load };
    this.perfCache.clear();
  }

  /** Validates the replica references of a per-replica fault, then records it. */
  addFault(fault: Fault): { ok: true } | { ok: false; issues: ArgIssue[] } {
    const indices = new Set<number>();
    if (fault.kind !== 'degrade_new_config') {
      const issues: ArgIssue[] = [];
      fault.replicas.forEach((ref, k) => {
        const i = this.resolveReplicaRef(ref);
        if (i === undefined) issues.push({ field: `replicas[${k}]`, message: `not a replica of this deployment: ${ref}` });
        else indices.add(i);
      });
      if (issues.length > 0) return { ok: false, issues };
    }
    this.advanceAll();
    this.faults.push({ fault, indices });
    return { ok: true };
  }

  clearFaults(): void {
    this.advanceAll();
    this.faults = [];
  }

  /** Back to how the deployment started: every replica on its first config and free of leases, no faults, the default load. */
  reset(): void {
    this.advanceAll();
    for (const r of this.replicas) r.reset();
    this.faults = [];
    this.load = { ...this.initialLoad };
    this.perfCache.clear();
  }

  listFaults(): Fault[] {
    return this.faults.map((f) => f.fault);
  }

  hasFault(index: number, kind: ReplicaFaultKind): boolean {
    return this.faults.some((f) => f.fault.kind === kind && f.indices.has(index));
  }

  state(): SimState {
    return {
      replicas: this.replicas.map((r) => ({
        address: r.address,
        revision: r.revision,
        engine_args: { ...r.engineArgs },
        config_pushes: r.configPushes,
      })),
      faults: this.listFaults(),
      load: this.getLoad(),
    };
  }

  /** Each replica's share of the offered load. */
  perReplicaLoad(): Load {
    return { ...this.load, requests_per_second: this.load.requests_per_second / this.replicas.length };
  }

  /** Fraction of replicas on a revision other than "initial". */
  changedFraction(): number {
    return this.replicas.filter((r) => r.revision !== INITIAL_REVISION).length / this.replicas.length;
  }

  /** The degrade severity that applies to replica `index` right now (0 = healthy). */
  severityOf(index: number): number {
    const r = this.replicas[index];
    return degradeSeverity(this.listFaults(), r.revision !== INITIAL_REVISION, this.changedFraction());
  }

  /** Replica `index`'s current steady state, degradation included. */
  performanceOf(index: number): Performance {
    const r = this.replicas[index];
    const own = this.basePerformance(r.engineArgs);
    const severity = this.severityOf(index);
    return severity > 0 ? degradePerformance(own, this.basePerformance(this.engine.defaultArgs), severity) : own;
  }

  /** The agent's `PUT config`: idempotent per revision, engine-validated, subject to apply_error. */
  pushConfig(index: number, push: ConfigPush): PushResult {
    const r = this.replicas[index];
    if (push.revision === r.revision) return { status: 200, config: r.config(), changed: false };
    const issues = this.engine.validateArgs(push.engine_args);
    if (issues.length > 0) return { status: 400, issues };
    if (this.hasFault(index, 'apply_error')) {
      return {
        status: 422,
        reason: `engine failed to become healthy with revision ${push.revision} (simulated apply_error); still running ${r.revision}`,
      };
    }
    this.advanceAll();
    r.apply(push.revision, push.engine_args);
    return { status: 200, config: r.config(), changed: true };
  }

  /** The `/metrics` page of replica `index`, its counters advanced to now. */
  scrape(index: number): string {
    const perf = this.performanceOf(index);
    const r = this.replicas[index];
    r.advance(this.now(), perf);
    return this.engine.renderMetrics(r.accumulated, perf, r.engineArgs);
  }

  /** The body of the engine's config-introspection route for replica `index` (undefined if the engine has none). */
  introspect(index: number): unknown {
    const intro = this.engine.introspection;
    if (!intro) return undefined;
    return intro.render(this.replicas[index].engineArgs, this.performanceOf(index));
  }

  /** Bring every replica's counters up to now at its current steady state (before any state change). */
  advanceAll(): void {
    const t = this.now();
    this.replicas.forEach((r, i) => r.advance(t, this.performanceOf(i)));
  }

  private basePerformance(args: ReplicaConfig['engine_args']): Performance {
    const key = JSON.stringify(args);
    let perf = this.perfCache.get(key);
    if (!perf) {
      perf = this.engine.performance(args, this.perReplicaLoad());
      if (this.perfCache.size >= 256) this.perfCache.clear();
      this.perfCache.set(key, perf);
    }
    return perf;
  }
}
