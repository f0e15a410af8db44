import { ParentClosePolicy, patched, setCurrentDetails, startChild } from '@temporalio/workflow';
import type { ClaimRequest } from './definitions';
import { rolloutWorkflow } from './rollout';
import { tuningWorkflow } from './tuning';
import { DEPLOYMENT_KEY, ENGINE_KEY, STAGE_KEY, STATUS_KEY } from '../contract';
import { fitSummary } from '../core/stepSummaries';
import { guardDetails, rolloutStaticDetails, rolloutStaticSummary } from '../core/rolloutStory';

/**
 * One rollout per deployment, enforced by Temporal itself. The guard's workflow ID is derived from
 * the deployment and the gateway starts it with the `FAIL` conflict policy, so of two simultaneous
 * POSTs exactly one start succeeds however they race, and the claim costs one call to the server
 * with no worker in the loop. The guard starts the rollout as its child and lives exactly as long
 * as the rollout.
 */
export async function deploymentGuardWorkflow(claim: ClaimRequest): Promise<void> {
  // A tuning run holds the deployment for all its iterations (only claims made since tuning runs exist carry one).
  if (claim.tuning && patched('tuning-claims')) return holdForTuning(claim, claim.tuning);
  // Older claims carry no key: their children keep the spelling they were started with.
  const deploymentKey = claim.deployment_key ?? claim.request.instance_id;
  // The Web UI's details; no command, so recorded histories replay unchanged.
  setCurrentDetails(guardDetails(deploymentKey, claim.rollout_id, false));
  try {
    const rollout = await startChild(rolloutWorkflow, {
      workflowId: claim.rollout_id,
      // What the Web UI lists for the rollout. Metadata of the start command, not compared on replay.
      staticSummary: rolloutStaticSummary(claim.request),
      staticDetails: rolloutStaticDetails(claim.request, claim.started_by),
      args: [{ ...claim.request, started_by: claim.started_by, started_via: 'rest', ...(claim.created_at ? { created_at: claim.created_at } : {}) }],
      // Closing the guard (cancel, terminate) must still let the rollout roll back.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: DEPLOYMENT_KEY, value: deploymentKey },
        { key: ENGINE_KEY, value: claim.request.instance_type },
        { key: STATUS_KEY, value: 'pending' },
        { key: STAGE_KEY, value: 'none' },
      ],
    });
    await rollout.result();
  } catch {
    // A cancelled or failed rollout still releases the deployment.
  }
  setCurrentDetails(guardDetails(deploymentKey, claim.rollout_id, true));
}

/** The tuning run is the guard's child, so the deployment stays claimed across all its continue-as-new runs. */
async function holdForTuning(claim: ClaimRequest, tuning: NonNullable<ClaimRequest['tuning']>): Promise<void> {
  try {
    const run = await startChild(tuningWorkflow, {
      workflowId: claim.rollout_id,
      staticSummary: fitSummary(`tuning ${tuning.instance_id} (${tuning.instance_type}) · target health ${tuning.target_health} · approval ${tuning.approval}`),
      args: [{ request: tuning, started_by: claim.started_by, deployment_key: claim.deployment_key ?? claim.request.instance_id, known_constraints: claim.known_constraints ?? [] }],
      // Closing the guard must still let the current iteration's rollout roll back.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: DEPLOYMENT_KEY, value: claim.deployment_key ?? claim.request.instance_id },
        { key: ENGINE_KEY, value: tuning.instance_type },
        { key: STATUS_KEY, value: 'pending' },
      ],
    });
    await run.result();
  } catch {
    // A cancelled or failed run still releases the deployment.
  }
}
