/**
 * The floor: a bare workflow that walks the same steps as a rollout — the same number of activities,
 * and the same minimum-length timers in the same places — with no work in any of them. What it costs
 * is what Temporal itself costs on this server, this worker and this machine.
 */
import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type * as activities from './activities';
import { STATUS_KEY } from '../../contract';

const { noop } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

/** One workflow task's worth of commands: `a` no-op activities and `t` timers of `timerMs`, in parallel. */
export interface FloorStep {
  a: number;
  t: number;
}

/**
 * Runs `steps`; with `parkMs`, then marks itself parked (the search attribute the rollouts use for
 * their status) and sleeps that long — the floor for memory with workflows in flight.
 */
export async function floorWorkflow(steps: FloorStep[], timerMs: number, parkMs?: number): Promise<number> {
  for (const step of steps) {
    await Promise.all([...Array.from({ length: step.a }, () => noop()), ...Array.from({ length: step.t }, () => sleep(timerMs))]);
  }
  if (parkMs) {
    upsertSearchAttributes([{ key: STATUS_KEY, value: 'parked' }]);
    await sleep(parkMs);
  }
  return steps.length;
}
