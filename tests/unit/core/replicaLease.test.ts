import { DEFAULT_LEASE_SECONDS, describeLease, LEASE_MARGIN_SECONDS, leaseSecondsFor, ReplicaLease } from '../../../core/replicaLease';

function clock(startMs = 1_000_000) {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('ReplicaLease', () => {
  it('a push with a holder takes the lease for its length; the holder renews it, another holder is refused', () => {
    const c = clock();
    const lease = new ReplicaLease(c.now);
    expect(lease.claim('rollout-a', 60)).toEqual({ ok: true, lease: { holder: 'rollout-a', expiresAtMs: 1_060_000 } });
    c.advance(30_000);
    expect(lease.claim('rollout-b', 60)).toEqual({ ok: false, held: { holder: 'rollout-a', expiresAtMs: 1_060_000 } });
    // Renewal: the holder's push moves the expiry to now + its length.
    expect(lease.claim('rollout-a', 60)).toEqual({ ok: true, lease: { holder: 'rollout-a', expiresAtMs: 1_090_000 } });
    c.advance(59_000);
    expect(lease.claim('rollout-b', 60).ok).toBe(false);
  });

  it('a push without a holder passes a free replica (takes no lease) and is refused by a held one', () => {
    const c = clock();
    const lease = new ReplicaLease(c.now);
    expect(lease.claim(undefined)).toEqual({ ok: true, lease: null });
    expect(lease.held()).toBeNull();
    lease.claim('rollout-a');
    expect(lease.held()).toEqual({ holder: 'rollout-a', expiresAtMs: 1_000_000 + DEFAULT_LEASE_SECONDS * 1000 });
    expect(lease.claim(undefined)).toEqual({ ok: false, held: lease.held() });
  });

  it('expires: at its expiry the replica is free and another holder takes it', () => {
    const c = clock();
    const lease = new ReplicaLease(c.now);
    lease.claim('rollout-a', 10);
    c.advance(9_999);
    expect(lease.held()?.holder).toBe('rollout-a');
    c.advance(1);
    expect(lease.held()).toBeNull();
    expect(lease.claim('rollout-b', 10)).toEqual({ ok: true, lease: { holder: 'rollout-b', expiresAtMs: 1_020_000 } });
  });

  it.each([
    // [who holds, release by, force, answer]
    [null, 'rollout-a', false, { ok: true, released: null }],
    ['rollout-a', 'rollout-a', false, { ok: true, released: { holder: 'rollout-a', expiresAtMs: 1_060_000 } }],
    ['rollout-a', 'rollout-b', false, { ok: false, held: { holder: 'rollout-a', expiresAtMs: 1_060_000 } }],
    ['rollout-a', undefined, false, { ok: false, held: { holder: 'rollout-a', expiresAtMs: 1_060_000 } }],
    ['rollout-a', undefined, true, { ok: true, released: { holder: 'rollout-a', expiresAtMs: 1_060_000 } }],
    ['rollout-a', 'rollout-b', true, { ok: true, released: { holder: 'rollout-a', expiresAtMs: 1_060_000 } }],
  ] as const)('held by %s, released by %s (force %s) → %j', (holder, by, force, expected) => {
    const lease = new ReplicaLease(clock().now);
    if (holder) lease.claim(holder, 60);
    expect(lease.release(by, force)).toEqual(expected);
    expect(lease.held()?.holder ?? null).toBe(expected.ok ? null : holder);
  });

  it('release is idempotent: the second release finds nothing', () => {
    const lease = new ReplicaLease(clock().now);
    lease.claim('rollout-a');
    expect(lease.release('rollout-a', false).ok).toBe(true);
    expect(lease.release('rollout-a', false)).toEqual({ ok: true, released: null });
  });

  it('uses the wall clock when none is given', () => {
    const lease = new ReplicaLease();
    const before = Date.now();
    const claimed = lease.claim('rollout-a', 5);
    expect(claimed.ok && claimed.lease!.expiresAtMs).toBeGreaterThanOrEqual(before + 5000);
  });
});

describe('describeLease', () => {
  it.each([
    [null, { holder: null, expires_at: null }],
    [{ holder: 'rollout-a', expiresAtMs: Date.UTC(2026, 0, 2, 3, 4, 5) }, { holder: 'rollout-a', expires_at: '2026-01-02T03:04:05.000Z' }],
  ])('%j → %j', (lease, expected) => {
    expect(describeLease(lease)).toEqual(expected);
  });
});

describe('leaseSecondsFor', () => {
  const base = { stages: [10, 50, 100], monitoring_duration_seconds: 300, approval_timeout_seconds: 3600, auto_rollout: true };
  it.each([
    ['auto rollout: every window, one approval timeout, the margin', base, 3 * 300 + 3600 + LEASE_MARGIN_SECONDS],
    ['promotion waits add one approval timeout per stage after the first', { ...base, auto_rollout: false }, 3 * 300 + 3 * 3600 + LEASE_MARGIN_SECONDS],
    ['fractional windows round up', { ...base, stages: [100], monitoring_duration_seconds: 0.5, approval_timeout_seconds: 0.2 }, Math.ceil(0.7 + LEASE_MARGIN_SECONDS)],
    ['bounded by the maximum', { ...base, approval_timeout_seconds: 30 * 24 * 3600 }, 7 * 24 * 3600],
    ['a partial input (a hand-started workflow) gets the default and the margin', {} as typeof base, DEFAULT_LEASE_SECONDS + LEASE_MARGIN_SECONDS],
  ])('%s', (_what, request, expected) => {
    expect(leaseSecondsFor(request, 7 * 24 * 3600)).toBe(expected);
  });
});
