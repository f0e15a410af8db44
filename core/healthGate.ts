/**
 * The stage gate of DESIGN.md: a stage passes when its health score after the monitoring window is
 * at least `threshold` × the score before the stage. A missing score ("no data") never passes:
 * silence from a canary is not evidence that it is healthy.
 */
export interface GateInput {
  before: number | null;
  after: number | null;
  threshold: number;
}

export interface GateResult {
  passed: boolean;
  /** The score the stage needed: threshold × before (null when before is unknown). */
  required: number | null;
  reason: string;
}

export function formatScore(score: number): string {
  return score.toFixed(1);
}

export function healthGate({ before, after, threshold }: GateInput): GateResult {
  if (before === null) {
    return { passed: false, required: null, reason: 'No baseline health score (no metric data before the stage)' };
  }
  const required = threshold * before;
  if (after === null) {
    return { passed: false, required, reason: 'No health data from the changed replicas during the monitoring window' };
  }
  if (after + 1e-9 < required) {
    return {
      passed: false,
      required,
      reason: `Health score dropped below threshold (${formatScore(after)} < ${formatScore(required)})`,
    };
  }
  return {
    passed: true,
    required,
    reason: `Health score ${formatScore(after)} ≥ ${formatScore(required)} (${threshold} × ${formatScore(before)})`,
  };
}
