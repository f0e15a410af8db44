import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { ClaimRequest } from './definitions';
import { rolloutWorkflow } from './rollout';
import { DEPLOYMENT_KEY, ENGINE_KEY, STAGE_KEY, STATUS_KEY } from '../contract';

/**
 * One rollout per deployment, enforced by Temporal itself. The guard's workflow ID is derived from
 * the deployment and the gateway starts it with the `FAIL` conflict policy, so of two simultaneous
 * POSTs exactly one start succeeds however they race, and the claim costs one call to the server
 * with no worker in the loop. The guard starts the rollout as its child and lives exactly as long
 * as the rollout.
 */
export async function deploymentGuardWorkflow(claim: ClaimRequest): Promise<void> {
  try {
    const rollout = await startChild(rolloutWorkflow, {
      workflowId: claim.rollout_id,
      args: [{ ...claim.request, started_by: claim.started_by, started_via: 'rest', ...(claim.created_at ? { created_at: claim.created_at } : {}) }],
      // Closing the guard (cancel, terminate) must still let the rollout roll back.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        // Older claims carry no key: their children keep the spelling they were started with.
        { key: DEPLOYMENT_KEY, value: claim.deployment_key ?? claim.request.instance_id },
        { key: ENGINE_KEY, value: claim.request.instance_type },
        { key: STATUS_KEY, value: 'pending' },
        { key: STAGE_KEY, value: 'none' },
      ],
    });
    await rollout.result();
  } catch {
    // A cancelled or failed rollout still releases the deployment.
  }
}
