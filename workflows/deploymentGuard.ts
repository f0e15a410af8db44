import { ApplicationFailure, condition, ParentClosePolicy, setHandler, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import { claimDeploymentUpdate, DEPLOYMENT_BUSY_ERROR, type ClaimRequest } from './definitions';
import { rolloutWorkflow } from './rollout';
import { DEPLOYMENT_KEY, ENGINE_KEY, STAGE_KEY, STATUS_KEY } from './searchAttributes';

/**
 * One rollout per deployment, enforced by Temporal itself. The guard's workflow ID is derived from
 * the deployment, so Temporal runs at most one guard per deployment; updates to it are processed one
 * at a time, so of two simultaneous claims exactly one wins, however the requests race. The guard
 * starts the rollout as its child and lives exactly as long as the rollout.
 */
export async function deploymentGuardWorkflow(): Promise<void> {
  let claim: ClaimRequest | null = null;
  let rolloutStart: Promise<ChildWorkflowHandle<typeof rolloutWorkflow>> | null = null;

  const busy = () =>
    ApplicationFailure.create({
      type: DEPLOYMENT_BUSY_ERROR,
      message: `Deployment ${claim?.request.instance_id} already has a rollout in progress: ${claim?.rollout_id}`,
      details: [claim?.rollout_id],
      nonRetryable: true,
    });

  setHandler(
    claimDeploymentUpdate,
    (req) => {
      if (claim) throw busy();
      claim = req;
      // Not awaited: the start command goes out in this same workflow task, so the claim completes
      // in one round trip; the guard's main body waits for the child.
      rolloutStart = startChild(rolloutWorkflow, {
        workflowId: req.rollout_id,
        args: [{ ...req.request, started_by: req.started_by, started_via: 'rest' }],
        // Closing the guard (cancel, terminate) must still let the rollout roll back.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          { key: DEPLOYMENT_KEY, value: req.request.instance_id },
          { key: ENGINE_KEY, value: req.request.instance_type },
          { key: STATUS_KEY, value: 'pending' },
          { key: STAGE_KEY, value: 'none' },
        ],
      });
      return { rollout_id: req.rollout_id };
    },
    {
      validator: (_req: ClaimRequest) => {
        if (claim) throw busy();
      },
    },
  );

  await condition(() => rolloutStart !== null);
  try {
    const rollout = await rolloutStart!;
    await rollout.result();
  } catch {
    // A cancelled or failed rollout still releases the deployment.
  }
}
