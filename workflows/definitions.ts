import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbortPayload, ApprovePayload, PromotePayload, RejectPayload, RolloutRequest, ViaChannel, WorkflowState } from '../models';

/** Names are part of the contract: operators send them with `temporal workflow signal --name ...`. */
export const approveSignal = defineSignal<[ApprovePayload & ViaChannel]>('approve');
export const rejectSignal = defineSignal<[RejectPayload & ViaChannel]>('reject');
export const promoteSignal = defineSignal<[(PromotePayload & ViaChannel)?]>('promote');
export const abortSignal = defineSignal<[(AbortPayload & ViaChannel)?]>('abort');
export const getStateQuery = defineQuery<WorkflowState>('getState');

export const ROLLOUT_WORKFLOW_TYPE = 'rolloutWorkflow';

/** Claim a deployment for one rollout: the guard workflow answers this update. */
export interface ClaimRequest {
  rollout_id: string;
  request: RolloutRequest;
  /** The authenticated subject (or `anonymous`) that asked for the rollout. */
  started_by: string;
}
export const claimDeploymentUpdate = defineUpdate<{ rollout_id: string }, [ClaimRequest]>('claimDeployment');

export const DEPLOYMENT_GUARD_WORKFLOW_TYPE = 'deploymentGuardWorkflow';
export const DEPLOYMENT_BUSY_ERROR = 'DeploymentBusy';

/** One guard per deployment, by workflow ID: Temporal runs at most one workflow per ID at a time. */
export function deploymentGuardId(instanceId: string): string {
  return `deployment-guard:${instanceId}`;
}
