import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbortPayload, ApprovePayload, PromotePayload, RejectPayload, RolloutRequest, TuningConstraint, TuningRequest, ViaChannel, WorkflowState } from '../models';

/**
 * Names are part of the contract. Operators send the signals with `temporal workflow signal --name ...`
 * (fire and forget; a signal that does not fit the rollout's state is ignored). The gateway sends the
 * updates of the same names, which refuse a decision that does not fit and answer with the state once
 * the workflow has taken it in: one round trip instead of a signal followed by polling. The error
 * types, ID prefixes and states they share with the gateway are in contract/.
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

/** What the gateway hands the deployment's guard: the rollout to start once the claim is taken. */
export interface ClaimRequest {
  rollout_id: string;
  request: RolloutRequest;
  /** The authenticated subject (or `anonymous`) that asked for the rollout. */
  started_by: string;
  /** The deployment's key, one however it is spelled (`canonicalDeploymentKey`); absent in claims made before it existed. */
  deployment_key?: string;
  /** When the gateway accepted it: the `created_at` of its POST answer and of the rollout. Absent in older claims. */
  created_at?: string;
  /**
   * Present when the claim is for a tuning run (its ID is then `rollout_id`, and `request` its rollouts'
   * settings): the guard starts the run instead of a rollout.
   */
  tuning?: TuningRequest;
  /** A tuning claim's constraints learnt by the deployment's previous tuning run. */
  known_constraints?: TuningConstraint[];
}
