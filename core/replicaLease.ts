/**
 * One owner per replica (docs/replica-leases.md). A rollout that pushes a config names itself as the
 * `holder` (its workflow id, the fencing token) and claims the replica for `lease_seconds`; while that
 * lease is live, a push from any other holder is refused, so two rollouts that share a replica cannot
 * revert each other's work. Each push from the holder renews the lease, the rollout releases it when it
 * ends, and a rollout that vanished (terminated, its worker gone for good) loses it when it expires or
 * when an operator forces the release.
 *
 * Pure bookkeeping with an injected clock: the agent and the simulator keep one `ReplicaLease` per
 * replica and answer HTTP from its decisions.
 */

export interface Lease {
  holder: string;
  /** Wall-clock milliseconds at which the lease lapses. */
  expiresAtMs: number;
}

/** Longest lease an agent grants: a vanished rollout frees its replicas by then at the latest. */
export const MAX_LEASE_SECONDS = 7 * 24 * 3600;

/** A lease length the push did not state: an hour, renewed by every push of the holder. */
export const DEFAULT_LEASE_SECONDS = 3600;

/** Added to a rollout's own estimate of its length: activity retries, a slow worker, clock skew. */
export const LEASE_MARGIN_SECONDS = 3600;

export type ClaimOutcome = { ok: true; lease: Lease | null } | { ok: false; held: Lease };

export type ReleaseOutcome = { ok: true; released: Lease | null } | { ok: false; held: Lease };

export class ReplicaLease {
  private current: Lease | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** The live lease, or null (a lapsed lease is forgotten here). */
  held(): Lease | null {
    if (this.current && this.current.expiresAtMs <= this.now()) this.current = null;
    return this.current ? { ...this.current } : null;
  }

  /**
   * May a push from `holder` go ahead? A live lease of another holder refuses it (a push that names
   * no holder too: it comes from outside any rollout). Otherwise a named holder takes or renews the
   * lease at once, before the apply runs, so of two racing pushes only the first gets through.
   */
  claim(holder: string | undefined, leaseSeconds: number = DEFAULT_LEASE_SECONDS): ClaimOutcome {
    const live = this.held();
    if (live && live.holder !== holder) return { ok: false, held: live };
    if (holder === undefined) return { ok: true, lease: null };
    this.current = { holder, expiresAtMs: this.now() + leaseSeconds * 1000 };
    return { ok: true, lease: { ...this.current } };
  }

  /**
   * Ends the lease of `holder` (idempotent: no live lease is nothing to do). Another holder's lease is
   * left alone unless `force`, which is the operator's way to free a terminated rollout's replicas.
   */
  release(holder: string | undefined, force: boolean): ReleaseOutcome {
    const live = this.held();
    if (!live) return { ok: true, released: null };
    if (!force && live.holder !== holder) return { ok: false, held: live };
    this.current = null;
    return { ok: true, released: live };
  }
}

/** How a lease reads over HTTP. */
export function describeLease(lease: Lease | null): { holder: string | null; expires_at: string | null } {
  return lease ? { holder: lease.holder, expires_at: new Date(lease.expiresAtMs).toISOString() } : { holder: null, expires_at: null };
}

export interface LeaseLengthInput {
  stages: number[];
  monitoring_duration_seconds: number;
  approval_timeout_seconds: number;
  auto_rollout: boolean;
}

/**
 * How long a rollout claims its replicas: every stage's monitoring window, the approval timeout, one
 * more approval timeout per promotion wait when stages wait for a promote, and a margin; at most
 * `maxSeconds` (an agent refuses longer). Every push renews the lease, so this bounds the time from a
 * push to the rollout's end.
 */
export function leaseSecondsFor(request: LeaseLengthInput, maxSeconds: number): number {
  // A workflow started by hand with a partial input must not fail here, before its first step.
  const stages = Array.isArray(request.stages) ? request.stages.length : 0;
  const promotionWaits = request.auto_rollout === false ? Math.max(0, stages - 1) : 0;
  const seconds =
    stages * request.monitoring_duration_seconds +
    (1 + promotionWaits) * request.approval_timeout_seconds +
    LEASE_MARGIN_SECONDS;
  if (!Number.isFinite(seconds)) return Math.min(maxSeconds, DEFAULT_LEASE_SECONDS + LEASE_MARGIN_SECONDS);
  return Math.min(maxSeconds, Math.ceil(seconds));
}
