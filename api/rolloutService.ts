import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { initialState } from '../core/rolloutState';
import { TERMINAL_STATUSES, type AbortPayload, type ApprovePayload, type PromotePayload, type RejectPayload, type RolloutRequest, type WorkflowState, type WorkflowStatus } from '../models';
import {
  abortSignal,
  approveSignal,
  claimDeploymentUpdate,
  DEPLOYMENT_BUSY_ERROR,
  DEPLOYMENT_GUARD_WORKFLOW_TYPE,
  deploymentGuardId,
  getStateQuery,
  promoteSignal,
  rejectSignal,
  ROLLOUT_WORKFLOW_TYPE,
} from '../workflows/definitions';
import { DEPLOYMENT_KEY, ENGINE_KEY, STATUS_KEY } from '../workflows/searchAttributes';
import { HttpError } from './httpError';

/** Visibility queries quote values in double quotes; escape what would end the string. */
export function quoteVisibility(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The rollout holding the deployment, when `err` is the guard refusing a claim. */
function deploymentBusy(err: unknown): string | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === DEPLOYMENT_BUSY_ERROR) return String(cause.details?.[0] ?? 'unknown');
  return undefined;
}

function isDeadlineExceeded(err: unknown): boolean {
  return (err as { code?: number })?.code === 4 || /deadline/i.test((err as Error)?.message ?? '');
}

const isAwaitingApproval = (s: WorkflowState) => s.status === 'awaiting_approval' && s.approved === null;

/** The gateway's whole job: turn REST calls into Temporal client calls. It keeps no state of its own. */
export class RolloutService {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly claimTimeoutMs = 30_000,
  ) {}

  /**
   * Claims the deployment through its guard workflow (update-with-start), which starts the rollout
   * as its child. The claim is decided inside Temporal, so simultaneous POSTs for one deployment give
   * exactly one rollout however they race.
   */
  async start(req: RolloutRequest, startedBy: string): Promise<WorkflowState> {
    const rolloutId = `rollout-${randomUUID()}`;
    const guard = new WithStartWorkflowOperation(DEPLOYMENT_GUARD_WORKFLOW_TYPE, {
      workflowId: deploymentGuardId(req.instance_id),
      taskQueue: this.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: DEPLOYMENT_KEY, value: req.instance_id },
        { key: ENGINE_KEY, value: req.instance_type },
      ],
    });
    try {
      await this.client.connection.withDeadline(Date.now() + this.claimTimeoutMs, () =>
        this.client.workflow.executeUpdateWithStart(claimDeploymentUpdate, {
          args: [{ rollout_id: rolloutId, request: req, started_by: startedBy }],
          startWorkflowOperation: guard,
        }),
      );
    } catch (err) {
      const busyWith = deploymentBusy(err);
      if (busyWith !== undefined) {
        throw new HttpError(409, 'rollout_in_progress', `Deployment ${req.instance_id} already has a rollout in progress: ${busyWith}`, [
          { field: 'instance_id', message: `rollout ${busyWith} is in progress` },
        ]);
      }
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isDeadlineExceeded(err)) {
        // The claim may still be taken once a worker catches up: name the rollout so it can be found.
        throw new HttpError(
          503,
          'no_worker',
          `No worker took the rollout within ${this.claimTimeoutMs / 1000}s; is the worker running? If the claim is taken later the rollout runs as ${rolloutId}`,
          [{ field: 'workflow_id', message: rolloutId }],
        );
      }
      throw err;
    }
    const now = new Date().toISOString();
    return { ...initialState(rolloutId, req, now), audit: [{ action: 'start', actor: startedBy, channel: 'rest', at: now, detail: null }] };
  }

  async get(workflowId: string, retryNotFound = true): Promise<WorkflowState> {
    try {
      return await this.client.workflow.getHandle(workflowId).query(getStateQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // A rollout answered 201 a moment ago may still be between its guard's claim and its own start.
      if (retryNotFound && workflowId.startsWith('rollout-')) {
        await sleep(250);
        return this.get(workflowId, false);
      }
      throw new HttpError(404, 'not_found', `No rollout with id ${workflowId}`);
    }
  }

  async list(filter: { instance_id?: string; status?: WorkflowStatus; limit: number }): Promise<WorkflowState[]> {
    const clauses = [`WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}'`];
    if (filter.instance_id) clauses.push(`${DEPLOYMENT_KEY.name} = ${quoteVisibility(filter.instance_id)}`);
    if (filter.status) clauses.push(`${STATUS_KEY.name} = ${quoteVisibility(filter.status)}`);
    const ids: string[] = [];
    for await (const wf of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: filter.limit })) {
      ids.push(wf.workflowId);
      if (ids.length >= filter.limit) break;
    }
    const states = await Promise.all(ids.map((id) => this.get(id).catch(() => null)));
    return states
      .filter((s): s is WorkflowState => s !== null && (!filter.status || s.status === filter.status))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  async approve(workflowId: string, payload: ApprovePayload): Promise<WorkflowState> {
    await this.requireStatus(workflowId, isAwaitingApproval, 'awaiting approval');
    await this.client.workflow.getHandle(workflowId).signal(approveSignal, { ...payload, channel: 'rest' });
    return this.waitFor(workflowId, (s) => s.approved !== null);
  }

  async reject(workflowId: string, payload: RejectPayload): Promise<WorkflowState> {
    await this.requireStatus(workflowId, isAwaitingApproval, 'awaiting approval');
    await this.client.workflow.getHandle(workflowId).signal(rejectSignal, { ...payload, channel: 'rest' });
    return this.waitFor(workflowId, (s) => s.approved !== null);
  }

  async promote(workflowId: string, payload: PromotePayload): Promise<WorkflowState> {
    const before = await this.requireStatus(workflowId, (s) => s.current_step === 'await_promotion', 'awaiting promotion');
    await this.client.workflow.getHandle(workflowId).signal(promoteSignal, { ...payload, channel: 'rest' });
    return this.waitFor(workflowId, (s) => s.audit.length > before.audit.length);
  }

  async abort(workflowId: string, payload: AbortPayload): Promise<WorkflowState> {
    const before = await this.requireStatus(workflowId, (s) => !TERMINAL_STATUSES.includes(s.status), 'in progress');
    await this.client.workflow.getHandle(workflowId).signal(abortSignal, { ...payload, channel: 'rest' });
    return this.waitFor(workflowId, (s) => s.audit.length > before.audit.length);
  }

  private async requireStatus(workflowId: string, ok: (s: WorkflowState) => boolean, what: string): Promise<WorkflowState> {
    const state = await this.get(workflowId);
    if (!ok(state)) {
      const code = what === 'awaiting approval' ? 'not_awaiting_approval' : `not_${what.replace(/ /g, '_')}`;
      throw new HttpError(409, code, `Rollout ${workflowId} is ${state.status} (${state.current_step}), not ${what}`);
    }
    return state;
  }

  /** Signals are asynchronous; answer with the state once the workflow has taken the signal in. */
  private async waitFor(workflowId: string, done: (s: WorkflowState) => boolean, timeoutMs = 5000): Promise<WorkflowState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.get(workflowId);
      if (done(state) || Date.now() > deadline) return state;
      await sleep(20);
    }
  }

  /** Readiness must answer fast: a Temporal that does not reply within the deadline is unreachable. */
  async ready(timeoutMs = 2000): Promise<void> {
    await this.client.connection.withDeadline(Date.now() + timeoutMs, () => this.client.workflowService.getSystemInfo({}));
  }
}
