import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { canonicalDeploymentKey } from '../core/targetAddress';
import type { AbortPayload, ApprovePayload, PromotePayload, RejectPayload, RolloutRequest, ViaChannel, WorkflowState } from '../models';

/**
 * Names are part of the contract. Operators send the signals with `temporal workflow signal --name ...`
 * (fire and forget; a signal that does not fit the rollout's state is ignored). The gateway sends the
 * updates of the same names, which refuse a decision that does not fit and answer with the state once
 * the workflow has taken it in: one round trip instead of a signal followed by polling.
 */
export const approveSignal = defineSignal<[ApprovePayload & ViaChannel]>('approve');
export const rejectSignal = defineSignal<[RejectPayload & ViaChannel]>('reject');
export const promoteSignal = defineSignal<[(PromotePayload & ViaChannel)?]>('promote');
export const abortSignal = defineSignal<[(AbortPayload & ViaChannel)?]>('abort');
export const approveUpdate = defineUpdate<WorkflowState, [ApprovePayload & ViaChannel]>('approve');
export const rejectUpdate = defineUpdate<WorkflowState, [RejectPayload & ViaChannel]>('reject');
export const promoteUpdate = defineUpdate<WorkflowState, [PromotePayload & ViaChannel]>('promote');
export const abortUpdate = defineUpdate<WorkflowState, [AbortPayload & ViaChannel]>('abort');
export const getStateQuery = defineQuery<WorkflowState>('getState');

/** ApplicationFailure type of an update refused because the rollout is not in the state it needs. */
export const WRONG_STATE_ERROR = 'RolloutNotInState';

/** ApplicationFailure type of an update refused because its payload does not have a decision's shape. */
export const INVALID_DECISION_ERROR = 'InvalidDecision';

/**
 * ApplicationFailure type of an update that reached a worker after its `valid_until`: the gateway has
 * already answered 503 for it, so it must not take effect.
 */
export const DEADLINE_PASSED_ERROR = 'DecisionDeadlinePassed';

/**
 * The gateway's update IDs start with this; the workflow records such an update's channel as `rest`,
 * any other update's and every signal's as `temporal`. Any Temporal client could choose such an ID:
 * Temporal clients are trusted (see docs/decisions-and-audit.md).
 */
export const REST_UPDATE_ID_PREFIX = 'rest:';

export const ROLLOUT_WORKFLOW_TYPE = 'rolloutWorkflow';

/** What the gateway hands the deployment's guard: the rollout to start once the claim is taken. */
export interface ClaimRequest {
  rollout_id: string;
  request: RolloutRequest;
  /** The authenticated subject (or `anonymous`) that asked for the rollout. */
  started_by: string;
  /** The deployment's key, one however it is spelled (`canonicalDeploymentKey`); absent in claims made before it existed. */
  deployment_key?: string;
}

export const DEPLOYMENT_GUARD_WORKFLOW_TYPE = 'deploymentGuardWorkflow';

/**
 * One guard per deployment, by workflow ID: Temporal runs at most one workflow per ID at a time.
 * Keyed on the canonical deployment, so `localhost:8000` and `http://127.0.0.1:8000` share one guard.
 */
export function deploymentGuardId(instanceId: string): string {
  return `deployment-guard:${canonicalDeploymentKey(instanceId)}`;
}
