/**
 * Workflows for tests/integration/tuningTimeSkipping.test.ts: the real tuning run, with a stand-in for
 * its child rollouts. The stand-in has the rollout's workflow type, so the tuning run starts it as its
 * own; its outcome comes from the test's fake fleet (an activity), and it waits for a `release` signal
 * when the fleet says so, to hold an iteration open.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RolloutRequest, WorkflowState } from '../../../models';
import type { FakeFleetActivities } from './fakeFleet';

export { tuningWorkflow } from '../../../workflows/tuning';

export const releaseSignal = defineSignal('release');

const fleet = proxyActivities<FakeFleetActivities>({ startToCloseTimeout: '1 minute' });

export async function rolloutWorkflow(input: RolloutRequest): Promise<WorkflowState> {
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  if (await fleet.holdRollout()) await condition(() => released);
  return fleet.fakeRollout(input);
}
