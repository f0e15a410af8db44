import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { guardStaticDetails, guardStaticSummary } from '../core/rolloutStory';
import { describeRefusal, type Whereabouts } from '../core/rolloutWhereabouts';
import { canonicalDeploymentKey } from '../core/targetAddress';
import type { AbortPayload, ApprovePayload, PromotePayload, RejectPayload, RolloutRequest, RolloutRow, ViaChannel, WorkflowState, WorkflowStatus } from '../models';
import { abortUpdate, approveUpdate, promoteUpdate, rejectUpdate, type ClaimRequest } from '../workflows/definitions';
import {
  DEADLINE_PASSED_ERROR,
  DECISION_STATES,
  DEPLOYMENT_GUARD_WORKFLOW_TYPE,
  DEPLOYMENT_KEY,
  deploymentGuardId,
  ENGINE_KEY,
  INVALID_DECISION_ERROR,
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
import { DEFAULT_READS, isDeadlineExceeded, notARollout, pendingState, RolloutReads, type ListFilter, type ReadAnswer, type ReadsOptions } from './rolloutReads';

/** How often a start waits for the guard of a rollout that has just ended to close (100 ms apart). */
const GUARD_CLOSE_RETRIES = 100;

/**
 * How far the Temporal server's clock may be behind the gateway's: the gateway waits this long past a
 * decision's `valid_until` before it settles the outcome, so the workflow (on server time) has passed
 * the deadline too. Keep both clocks NTP-synchronised.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 1000;

/** The gateway's whole job: turn REST calls into Temporal client calls. It keeps no state of its own. */
export class RolloutService {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    /** How long a decision waits for a worker to take it before answering 503. */
    private readonly workerTimeoutMs = 30_000,
    readsOptions: ReadsOptions = DEFAULT_READS,
  ) {
    this.reads = new RolloutReads(client, taskQueue, readsOptions);
  }

  private readonly reads: RolloutReads;

  /**
   * Claims the deployment by starting its guard workflow, whose ID is derived from the deployment,
   * with the `FAIL` conflict policy: the claim is decided by the Temporal server in that one call, so
   * simultaneous POSTs for one deployment give exactly one rollout however they race. The guard then
   * starts the rollout as its child; no worker is needed for the POST to answer.
   */
  async start(req: RolloutRequest, startedBy: string): Promise<WorkflowState> {
    const deploymentKey = canonicalDeploymentKey(req.instance_id);
    // One created_at from the POST answer on: the claim carries it to the rollout.
    const claim: ClaimRequest = { rollout_id: rolloutId(randomUUID()), request: req, started_by: startedBy, deployment_key: deploymentKey, created_at: new Date().toISOString() };
    await this.claimDeployment(claim);
    return pendingState(claim, new Date(claim.created_at!));
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

  /** A rollout's state, or its last summary when no worker answers (see api/rolloutReads.ts). */
  get(workflowId: string): Promise<ReadAnswer> {
    return this.reads.get(workflowId);
  }

  list(filter: ListFilter): Promise<RolloutRow[]> {
    return this.reads.list(filter);
  }

  /** Where a rollout is, for the message of a refused decision. */
  private async whereabouts(workflowId: string): Promise<Whereabouts> {
    const s = await this.reads.read(workflowId);
    if (s.live) return s;
    return { workflow_id: s.workflow_id, status: s.status, current_step: s.current_step ?? 'complete', approved: null, approved_by: null, rejected_by: null };
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
        throw new HttpError(409, code, describeRefusal(await this.whereabouts(workflowId), wanted));
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
      throw new HttpError(409, code, describeRefusal(await this.whereabouts(workflowId), wanted));
    }
    if (description.type !== ROLLOUT_WORKFLOW_TYPE) throw notARollout(workflowId, description.type);
    if (description.status.name !== 'RUNNING') throw new HttpError(409, code, describeRefusal(await this.whereabouts(workflowId), wanted));
  }

  /** Readiness must answer fast: a Temporal that does not reply within the deadline is unreachable. */
  async ready(timeoutMs = 2000): Promise<void> {
    await this.client.connection.withDeadline(Date.now() + timeoutMs, () => this.client.workflowService.getSystemInfo({}));
  }
}
