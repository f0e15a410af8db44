/**
 * What the rollout does after a stage that passed its health gate (a failed stage rolls back before
 * this is asked); a plain function so every branch is unit-tested.
 */
export type NextStep = 'next_stage' | 'await_promotion' | 'complete';

export function nextAfterStage(opts: { isLastStage: boolean; autoRollout: boolean }): NextStep {
  if (opts.isLastStage) return 'complete';
  return opts.autoRollout ? 'next_stage' : 'await_promotion';
}

/**
 * During a monitoring window the gate is checked at every sample so a stage that goes bad early
 * fails early; two consecutive failing samples are needed before the window ends so that one
 * noisy reading cannot roll back a good change. At the end of the window one failure is enough.
 */
export function shouldStopMonitoring(opts: { consecutiveFailures: number; isFinalSample: boolean }): boolean {
  return opts.isFinalSample ? opts.consecutiveFailures >= 1 : opts.consecutiveFailures >= 2;
}

/** Sample times within a window: every `interval` seconds, the last one at the end of the window. */
export function monitoringTicks(windowSeconds: number, intervalSeconds: number): number[] {
  const ticks: number[] = [];
  const count = Math.max(1, Math.ceil(windowSeconds / intervalSeconds - 1e-9));
  for (let i = 1; i <= count; i++) ticks.push(Math.min(windowSeconds, i * intervalSeconds));
  return ticks;
}

/** About five samples per window, never closer than 1 s or further apart than 60 s. */
export function samplingIntervalSeconds(windowSeconds: number): number {
  return Math.min(60, Math.max(1, windowSeconds / 5));
}
