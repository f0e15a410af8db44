import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  QueryNotRegisteredError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { initialState } from '../core/rolloutState';
import { guardStaticDetails, guardStaticSummary } from '../core/rolloutStory';
import { describeRefusal } from '../core/rolloutWhereabouts';
import { canonicalDeploymentKey } from '../core/targetAddress';
import type { AbortPayload, ApprovePayload, PromotePayload, RejectPayload, RolloutRequest, ViaChannel, WorkflowState, WorkflowStatus } from '../models';
import { abortUpdate, approveUpdate, getStateQuery, promoteUpdate, rejectUpdate, type ClaimRequest } from '../workflows/definitions';
import {
  DEADLINE_PASSED_ERROR,
  DECISION_STATES,
  DEPLOYMENT_GUARD_WORKFLOW_TYPE,
  DEPLOYMENT_KEY,
  deploymentGuardId,
  ENGINE_KEY,
  INVALID_DECISION_ERROR,
  isGatewayRolloutId,
  isTerminalStatus,
  restUpdateId,
  ROLLOUT_KEY,
  ROLLOUT_WORKFLOW_TYPE,
  rolloutId,
  STATUS_KEY,
  WRONG_STATE_ERROR,
} from '../contract';
import type { DecisionKind } from '../core/decisionPayload';
import { settleUnanswered } from './decisionOutcome';
import { HttpError } from './httpError';

/** Visibility queries quote values in double quotes; escape what would end the string. */
export function quoteVisibility(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** How often a start waits for the guard of a rollout that has just ended to close (100 ms apart). */
const GUARD_CLOSE_RETRIES = 100;

/**
 * How far the Temporal server's clock may be behind the gateway's: the gateway waits this long past a
 * decision's `valid_until` before it settles the outcome, so the workflow (on server time) has passed
 * the deadline too. Keep both clocks NTP-synchronised.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 1000;

function notARollout(workflowId: string, type: string): HttpError {
  return new HttpError(404, 'not_found', `No rollout with id ${workflowId} (it is a ${type} workflow)`);
}

function isDeadlineExceeded(err: unknown): boolean {
  return (err as { code?: number })?.code === 4 || /deadline/i.test((err as Error)?.message ?? '');
}

/** The gateway's whole job: turn REST calls into Temporal client calls. It keeps no state of its own. */
export class RolloutService {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    /** How long a decision waits for a worker to take it before answering 503. */
    private readonly workerTimeoutMs = 30_000,
  ) {}

  /**
   * Claims the deployment by starting its guard workflow, whose ID is derived from the deployment,
   * with the `FAIL` conflict policy: the claim is decided by the Temporal server in that one call, so
   * simultaneous POSTs for one deployment give exactly one rollout however they race. The guard then
   * starts the rollout as its child; no worker is needed for the POST to answer.
   */
  async start(req: RolloutRequest, startedBy: string): Promise<WorkflowState> {
    const deploymentKey = canonicalDeploymentKey(req.instance_id);
    const claim: ClaimRequest = { rollout_id: rolloutId(randomUUID()), request: req, started_by: startedBy, deployment_key: deploymentKey };
    await this.claimDeployment(claim);
    return this.pendingState(claim, new Date());
  }

  /**
   * Starts the deployment's guard for a claim (a rollout's, or a tuning run's): 409 while another
   * rollout or tuning run holds the deployment.
   */
  async claimDeployment(claim: ClaimRequest, attempt = 0): Promise<void> {
    const req = claim.request;
    const deploymentKey = claim.deployment_key ?? canonicalDeploymentKey(req.instance_id);
    const guardId = deploymentGuardId(deploymentKey);
    try {
      await this.client.workflow.start(DEPLOYMENT_GUARD_WORKFLOW_TYPE, {
        workflowId: guardId,
        taskQueue: this.taskQueue,
        args: [claim],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // Until the rollout has started, a read of it is answered from here (see `pending`).
        memo: { claim },
        // The Web UI lists the guard beside its rollout: these tell it apart (docs/web-ui.md).
        staticSummary: guardStaticSummary(deploymentKey),
        staticDetails: guardStaticDetails(deploymentKey, claim.rollout_id),
        typedSearchAttributes: [
          { key: DEPLOYMENT_KEY, value: deploymentKey },
          { key: ENGINE_KEY, value: req.instance_type },
          { key: ROLLOUT_KEY, value: claim.rollout_id },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const holder = await this.client.workflow
        .getHandle(guardId)
        .describe()
        .then((d) => d.typedSearchAttributes.get(ROLLOUT_KEY) ?? 'unknown')
        .catch(() => 'unknown');
      // The guard closes a moment after its rollout ends: a rollout that has ended no longer holds the deployment.
      if (attempt < GUARD_CLOSE_RETRIES && (await this.hasEnded(holder))) {
        await sleep(100);
        return this.claimDeployment(claim, attempt + 1);
      }
      throw new HttpError(409, 'rollout_in_progress', `Deployment ${req.instance_id} already has a rollout in progress: ${holder}`, [
        { field: 'instance_id', message: `rollout ${holder} is in progress on deployment ${deploymentKey}` },
      ]);
    }
  }

  /**
   * Whether the rollout holding a deployment is over: closed, or with a terminal status indexed (its
   * state has ended and it is only letting go of its replica leases, which takes a moment).
   */
  private async hasEnded(workflowId: string): Promise<boolean> {
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      if (d.status.name !== 'RUNNING') return true;
      const status = d.typedSearchAttributes.get(STATUS_KEY);
      return status !== undefined && isTerminalStatus(status as WorkflowStatus);
    } catch {
      return false;
    }
  }

  async get(workflowId: string, retryNotFound = true): Promise<WorkflowState> {
    const state = (await this.queryState(workflowId)) ?? (await this.pending(workflowId));
    if (state) return state;
    // Visibility can lag a guard started a moment ago.
    if (retryNotFound && isGatewayRolloutId(workflowId)) {
      await sleep(250);
      return this.get(workflowId, false);
    }
    throw new HttpError(404, 'not_found', `No rollout with id ${workflowId}`);
  }

  /** The rollout's own state, or null when no such workflow exists (yet). */
  private async queryState(workflowId: string): Promise<WorkflowState | null> {
    const handle = this.client.workflow.getHandle(workflowId);
    // The gateway names its rollouts `rollout-…`; any other ID is looked at before it is queried, so a
    // workflow of another type (a deployment guard) is a 404, not a query error or a query no worker answers.
    if (!isGatewayRolloutId(workflowId)) {
      const type = await handle.describe().then((d) => d.type, (err) => (err instanceof WorkflowNotFoundError ? null : Promise.reject(err)));
      if (type === null) return null;
      if (type !== ROLLOUT_WORKFLOW_TYPE) throw notARollout(workflowId, type);
    }
    try {
      return await handle.query(getStateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      if (err instanceof QueryNotRegisteredError) throw notARollout(workflowId, (await handle.describe()).type);
      throw err;
    }
  }

  /** A rollout answered 201 a moment ago may not have started yet: its guard's claim describes it. */
  private async pending(workflowId: string): Promise<WorkflowState | null> {
    if (!isGatewayRolloutId(workflowId)) return null;
    const [guard] = await this.visible(`WorkflowType = '${DEPLOYMENT_GUARD_WORKFLOW_TYPE}' AND ${ROLLOUT_KEY.name} = ${quoteVisibility(workflowId)}`, 1);
    return guard ? this.claimedState(guard) : null;
  }

  /** The state of the rollout a guard holds its deployment for: its own once started, else `pending` from the claim. */
  private async claimedState(guard: WorkflowExecutionInfo): Promise<WorkflowState | null> {
    const claim = guard.memo?.claim as ClaimRequest | undefined;
    // A tuning run's claim describes no rollout: its rollouts are started (and listed) one by one.
    if (!claim || claim.tuning) return null;
    // The guard may have started the rollout since it was listed.
    const started = await this.queryState(claim.rollout_id).catch(() => null);
    if (started) return started;
    return guard.status.name === 'RUNNING' ? this.pendingState(claim, guard.startTime) : null;
  }

  private pendingState(claim: ClaimRequest, at: Date): WorkflowState {
    const now = at.toISOString();
    return {
      ...initialState(claim.rollout_id, claim.request, now),
      audit: [{ action: 'start', actor: claim.started_by, channel: 'rest', at: now, detail: null }],
    };
  }

  async list(filter: { instance_id?: string; status?: WorkflowStatus; limit: number }): Promise<WorkflowState[]> {
    // Only rollouts this gateway's workers serve: a query needs a worker on the rollout's task queue.
    const scope = [`TaskQueue = ${quoteVisibility(this.taskQueue)}`];
    // Rollouts started before deployment keys carry the spelling they were started with.
    if (filter.instance_id) {
      const spellings = [...new Set([canonicalDeploymentKey(filter.instance_id), filter.instance_id])];
      scope.push(`${DEPLOYMENT_KEY.name} IN (${spellings.map(quoteVisibility).join(', ')})`);
    }
    const rolloutQuery = [`WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}'`, ...scope];
    if (filter.status) rolloutQuery.push(`${STATUS_KEY.name} = ${quoteVisibility(filter.status)}`);
    const ids = (await this.visible(rolloutQuery.join(' AND '), filter.limit)).map((wf) => wf.workflowId);
    const states: Array<Promise<WorkflowState | null>> = ids.map((id) => this.get(id).catch(() => null));
    // Rollouts accepted but not started yet are known only by their guard's claim.
    if (!filter.status || filter.status === 'pending') {
      const guardQuery = [`WorkflowType = '${DEPLOYMENT_GUARD_WORKFLOW_TYPE}'`, `ExecutionStatus = 'Running'`, ...scope].join(' AND ');
      for (const guard of await this.visible(guardQuery, filter.limit)) {
        const held = guard.typedSearchAttributes.get(ROLLOUT_KEY);
        if (held && !ids.includes(held)) states.push(this.claimedState(guard).catch(() => null));
      }
    }
    return (await Promise.all(states))
      .filter((s): s is WorkflowState => s !== null && (!filter.status || s.status === filter.status))
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .slice(0, filter.limit);
  }

  private async visible(query: string, limit: number): Promise<WorkflowExecutionInfo[]> {
    const found: WorkflowExecutionInfo[] = [];
    for await (const wf of this.client.workflow.list({ query, pageSize: limit })) {
      found.push(wf);
      if (found.length >= limit) break;
    }
    return found;
  }

  approve(workflowId: string, payload: ApprovePayload): Promise<WorkflowState> {
    return this.decide(workflowId, approveUpdate, payload);
  }

  reject(workflowId: string, payload: RejectPayload): Promise<WorkflowState> {
    return this.decide(workflowId, rejectUpdate, payload);
  }

  promote(workflowId: string, payload: PromotePayload): Promise<WorkflowState> {
    return this.decide(workflowId, promoteUpdate, payload);
  }

  abort(workflowId: string, payload: AbortPayload): Promise<WorkflowState> {
    return this.decide(workflowId, abortUpdate, payload);
  }

  /**
   * Sends a decision as an update: the workflow's validator refuses one that does not fit its state
   * (409), and the answer is the state after the workflow has acted on it, in one round trip.
   *
   * A 503 must stay true: the update carries a deadline (`valid_until`) that the workflow's validator
   * enforces by workflow time, so an update no worker took in time is refused when a worker finally
   * receives it instead of taking effect late. The update ID carries the gateway's prefix, which is how
   * the workflow records the channel as `rest`.
   */
  private async decide<P>(workflowId: string, update: UpdateDefinition<WorkflowState, [P & ViaChannel]>, payload: P): Promise<WorkflowState> {
    // The update's name is its decision's kind (workflows/definitions.ts).
    const { wanted, refusalCode: code } = DECISION_STATES[update.name as DecisionKind];
    await this.requireRunningRollout(workflowId, code, wanted);
    const handle = this.client.workflow.getHandle(workflowId);
    const updateId = restUpdateId(randomUUID());
    const validUntil = Date.now() + this.workerTimeoutMs;
    try {
      return await this.client.connection.withDeadline(validUntil + CLOCK_SKEW_ALLOWANCE_MS, () =>
        handle.executeUpdate(update, { updateId, args: [{ ...payload, valid_until: new Date(validUntil).toISOString() }] }),
      );
    } catch (err) {
      const failure = err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure ? err.cause : null;
      if (failure?.type === WRONG_STATE_ERROR) throw new HttpError(409, code, failure.message);
      if (failure?.type === INVALID_DECISION_ERROR) {
        const problems = (failure.details ?? []).map(String);
        throw new HttpError(400, 'invalid_request', failure.message, problems.map((p) => ({ field: p.split(':')[0], message: p.split(': ').slice(1).join(': ') })));
      }
      if (failure?.type === DEADLINE_PASSED_ERROR) throw this.noWorker(update.name);
      if (err instanceof WorkflowNotFoundError) {
        // Updates reach running workflows only; a finished rollout still answers reads.
        throw new HttpError(409, code, describeRefusal(await this.get(workflowId), wanted));
      }
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isDeadlineExceeded(err)) {
        const outcome = await settleUnanswered(this.client, workflowId, updateId, validUntil);
        if (outcome === 'not_taken') throw this.noWorker(update.name);
        if (outcome === 'taken') return this.resultOfTaken(workflowId, updateId, update.name);
        throw new HttpError(504, 'decision_outcome_unknown', `A worker started on the ${update.name} just before its deadline and has not finished; GET the rollout to see whether it took effect`);
      }
      throw err;
    }
  }

  private noWorker(decision: string): HttpError {
    return new HttpError(503, 'no_worker', `No worker took the ${decision} within ${this.workerTimeoutMs / 1000}s; it was not applied and will not be (is the worker running?)`);
  }

  /** A decision a worker accepted at the last moment: its answer, or 202 when even that is slow. */
  private async resultOfTaken(workflowId: string, updateId: string, decision: string): Promise<WorkflowState> {
    try {
      return await this.client.connection.withDeadline(Date.now() + this.workerTimeoutMs, () =>
        this.client.workflow.getHandle(workflowId).getUpdateHandle<WorkflowState>(updateId).result(),
      );
    } catch {
      throw new HttpError(202, 'decision_accepted', `The ${decision} was accepted by the rollout and is being acted on; GET the rollout for its state`);
    }
  }

  /**
   * A decision is sent only to a running rollout: an ID of another kind of workflow (a deployment guard)
   * is 404, and a finished rollout is 409 saying what it is. Asking first also keeps an update from
   * waiting on a workflow no worker of ours will ever run.
   */
  private async requireRunningRollout(workflowId: string, code: string, wanted: string): Promise<void> {
    let description;
    try {
      description = await this.client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Not started yet (a claim still pending) or no such rollout: `get` answers 404 for the latter.
      throw new HttpError(409, code, describeRefusal(await this.get(workflowId), wanted));
    }
    if (description.type !== ROLLOUT_WORKFLOW_TYPE) throw notARollout(workflowId, description.type);
    if (description.status.name !== 'RUNNING') throw new HttpError(409, code, describeRefusal(await this.get(workflowId), wanted));
  }

  /** Readiness must answer fast: a Temporal that does not reply within the deadline is unreachable. */
  async ready(timeoutMs = 2000): Promise<void> {
    await this.client.connection.withDeadline(Date.now() + timeoutMs, () => this.client.workflowService.getSystemInfo({}));
  }
}
