/**
 * Everything the rollout workflow and the Node side (activities, gateway, CLI, tests) must agree on,
 * in one place. Sandbox-safe: the workflow imports it, so values come only from @temporalio/common and
 * core/. Every value here is recorded in histories or relied on by clients: changing one breaks replay
 * of `tests/histories/**` or an older gateway, so these are renamed never, only added to.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { WorkflowStatus } from '../models';
import type { DecisionKind } from '../core/decisionPayload';
import { canonicalDeploymentKey } from '../core/targetAddress';

// ── Workflow types ────────────────────────────────────────────────────────────────────────────────

export const ROLLOUT_WORKFLOW_TYPE = 'rolloutWorkflow';
export const DEPLOYMENT_GUARD_WORKFLOW_TYPE = 'deploymentGuardWorkflow';
export const TUNING_WORKFLOW_TYPE = 'tuningWorkflow';

// ── IDs ───────────────────────────────────────────────────────────────────────────────────────────

/** The gateway names its rollouts `rollout-<uuid>`; other IDs are checked to be rollouts before use. */
export const ROLLOUT_ID_PREFIX = 'rollout-';

export function rolloutId(unique: string): string {
  return `${ROLLOUT_ID_PREFIX}${unique}`;
}

export function isGatewayRolloutId(workflowId: string): boolean {
  return workflowId.startsWith(ROLLOUT_ID_PREFIX);
}

/** The gateway names its tuning runs `tuning-<uuid>`. */
export const TUNING_ID_PREFIX = 'tuning-';

export function tuningId(unique: string): string {
  return `${TUNING_ID_PREFIX}${unique}`;
}

/** A deployment guard's workflow ID starts with this; a rollout whose parent's does was started via REST. */
export const DEPLOYMENT_GUARD_ID_PREFIX = 'deployment-guard:';

/**
 * One guard per deployment, by workflow ID: Temporal runs at most one workflow per ID at a time.
 * Keyed on the canonical deployment, so `localhost:8000` and `http://127.0.0.1:8000` share one guard.
 */
export function deploymentGuardId(instanceId: string): string {
  return `${DEPLOYMENT_GUARD_ID_PREFIX}${canonicalDeploymentKey(instanceId)}`;
}

/**
 * The gateway's update IDs start with this; the workflow records such an update's channel as `rest`,
 * any other update's and every signal's as `temporal`. Any Temporal client could choose such an ID:
 * Temporal clients are trusted (see docs/decisions-and-audit.md).
 */
export const REST_UPDATE_ID_PREFIX = 'rest:';

export function restUpdateId(unique: string): string {
  return `${REST_UPDATE_ID_PREFIX}${unique}`;
}

// ── Statuses ──────────────────────────────────────────────────────────────────────────────────────

/** A rollout in one of these has ended and takes no more decisions. */
export const TERMINAL_STATUSES: readonly WorkflowStatus[] = ['completed', 'rejected', 'rolled_back', 'failed'];

export function isTerminalStatus(status: WorkflowStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

// ── Decisions ─────────────────────────────────────────────────────────────────────────────────────

/**
 * What each decision needs the rollout to be (`wanted`, in the words of the refusal message the
 * workflow writes) and the error code the gateway answers with its 409 when it is not.
 */
export const DECISION_STATES: Record<DecisionKind, { wanted: string; refusalCode: string }> = {
  approve: { wanted: 'awaiting approval', refusalCode: 'not_awaiting_approval' },
  reject: { wanted: 'awaiting approval', refusalCode: 'not_awaiting_approval' },
  promote: { wanted: 'awaiting promotion', refusalCode: 'not_awaiting_promotion' },
  abort: { wanted: 'in progress', refusalCode: 'not_in_progress' },
};

// ── Memo ──────────────────────────────────────────────────────────────────────────────────────────

/** A rollout keeps its summary (models/rolloutSummary.ts) in its memo under this key; the gateway lists from it. */
export const SUMMARY_MEMO_KEY = 'summary';

// ── Error types (ApplicationFailure.type) ─────────────────────────────────────────────────────────

/** An update refused because the rollout is not in the state it needs. */
export const WRONG_STATE_ERROR = 'RolloutNotInState';

/** An update refused because its payload does not have a decision's shape. */
export const INVALID_DECISION_ERROR = 'InvalidDecision';

/**
 * An update that reached a worker after its `valid_until`: the gateway has already answered 503 for
 * it, so it must not take effect.
 */
export const DEADLINE_PASSED_ERROR = 'DecisionDeadlinePassed';

/** Activity errors the workflow's retry policies name as non-retryable: retrying cannot help. */
export const NON_RETRYABLE = {
  configRejected: 'ConfigRejected',
  invalidReplicaAnswer: 'InvalidReplicaAnswer',
  fleetChanged: 'FleetChanged',
  /**
   * A read of a target the allowlist or the target rules refuse. Not in NON_RETRYABLE_TYPES (that list is
   * part of every released build's retry policies): the failure itself carries `nonRetryable`.
   */
  targetRefused: 'TargetRefused',
} as const;

/** The list the retry policies take, in the order the released build recorded it. */
export const NON_RETRYABLE_TYPES: string[] = [NON_RETRYABLE.configRejected, NON_RETRYABLE.invalidReplicaAnswer, NON_RETRYABLE.fleetChanged];

// ── Search attributes ─────────────────────────────────────────────────────────────────────────────

/**
 * Custom search attributes: the Web UI shows them as columns and operators filter with
 * `temporal workflow list -q 'ServetuneDeployment="localhost:8000" AND ServetuneStatus="rolling_out"'`.
 */
export const DEPLOYMENT_KEY = defineSearchAttributeKey('ServetuneDeployment', SearchAttributeType.KEYWORD);
export const ENGINE_KEY = defineSearchAttributeKey('ServetuneEngine', SearchAttributeType.KEYWORD);
export const STATUS_KEY = defineSearchAttributeKey('ServetuneStatus', SearchAttributeType.KEYWORD);
export const STAGE_KEY = defineSearchAttributeKey('ServetuneStage', SearchAttributeType.KEYWORD);
/** On a deployment's guard: the rollout it holds the deployment for (found before that rollout has started). */
export const ROLLOUT_KEY = defineSearchAttributeKey('ServetuneRollout', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [DEPLOYMENT_KEY, ENGINE_KEY, STATUS_KEY, STAGE_KEY, ROLLOUT_KEY];
