import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StopTuningPayload, TuningConstraint, TuningRequest, TuningState } from '../models';

/**
 * A tuning run's names, part of the contract: `temporal workflow query --type getTuningState`, and
 * `temporal workflow signal --name stop` (or the update of the same name, which answers the state).
 */
export const getTuningStateQuery = defineQuery<TuningState>('getTuningState');
export const stopTuningSignal = defineSignal<[StopTuningPayload?]>('stop');
export const stopTuningUpdate = defineUpdate<TuningState, [StopTuningPayload]>('stop');

/** What an iteration's rollout tells its tuning run when it begins (`until`: its deadline) and stops waiting for an approve. */
export interface ApprovalWaitNotice {
  rollout_id: string;
  awaiting: boolean;
  until?: string;
}

/** Sent by the tuning run's own child rollouts (workflows/approvalWaitNotice.ts), not by operators. */
export const approvalWaitSignal = defineSignal<[ApprovalWaitNotice]>('iterationApprovalWait');

export interface TuningWorkflowInput {
  request: TuningRequest;
  started_by: string;
  /** The deployment's canonical key (search attribute). */
  deployment_key: string;
  /** Constraints a previous tuning run of this deployment learnt (read by the gateway from its result). */
  known_constraints: TuningConstraint[];
  /** The run so far, carried across continue-as-new; absent on the first run. */
  carried?: TuningState;
}
