import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AbortPayload, ApprovePayload, RejectPayload, WorkflowState } from '../models';

/** Names are part of the contract: operators send them with `temporal workflow signal --name ...`. */
export const approveSignal = defineSignal<[ApprovePayload]>('approve');
export const rejectSignal = defineSignal<[RejectPayload]>('reject');
export const promoteSignal = defineSignal<[]>('promote');
export const abortSignal = defineSignal<[AbortPayload?]>('abort');
export const getStateQuery = defineQuery<WorkflowState>('getState');

export const ROLLOUT_WORKFLOW_TYPE = 'rolloutWorkflow';
