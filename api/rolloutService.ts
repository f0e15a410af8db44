import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { initialState } from '../core/rolloutState';
import type { ApprovePayload, RejectPayload, RolloutRequest, WorkflowState, WorkflowStatus } from '../models';
import { approveSignal, getStateQuery, rejectSignal, ROLLOUT_WORKFLOW_TYPE } from '../workflows/definitions';
import { DEPLOYMENT_KEY, ENGINE_KEY, STAGE_KEY, STATUS_KEY } from '../workflows/searchAttributes';
import { HttpError } from './httpError';

/** Visibility queries quote values in double quotes; escape what would end the string. */
export function quoteVisibility(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The gateway's whole job: turn REST calls into Temporal client calls. It keeps no state of its own. */
export class RolloutService {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async start(req: RolloutRequest): Promise<WorkflowState> {
    for await (const existing of this.client.workflow.list({
      query: `WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${DEPLOYMENT_KEY.name} = ${quoteVisibility(req.instance_id)}`,
      pageSize: 1,
    })) {
      throw new HttpError(409, 'rollout_in_progress', `Deployment ${req.instance_id} already has a rollout in progress: ${existing.workflowId}`, [
        { field: 'instance_id', message: `rollout ${existing.workflowId} is in progress` },
      ]);
    }
    const workflowId = `rollout-${randomUUID()}`;
    await this.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [req],
      typedSearchAttributes: [
        { key: DEPLOYMENT_KEY, value: req.instance_id },
        { key: ENGINE_KEY, value: req.instance_type },
        { key: STATUS_KEY, value: 'pending' },
        { key: STAGE_KEY, value: 'none' },
      ],
    });
    return initialState(workflowId, req, new Date().toISOString());
  }

  async get(workflowId: string): Promise<WorkflowState> {
    try {
      return await this.client.workflow.getHandle(workflowId).query(getStateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', `No rollout with id ${workflowId}`);
      throw err;
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
    await this.requireAwaitingApproval(workflowId);
    await this.client.workflow.getHandle(workflowId).signal(approveSignal, payload);
    return this.waitFor(workflowId, (s) => s.approved !== null);
  }

  async reject(workflowId: string, payload: RejectPayload): Promise<WorkflowState> {
    await this.requireAwaitingApproval(workflowId);
    await this.client.workflow.getHandle(workflowId).signal(rejectSignal, payload);
    return this.waitFor(workflowId, (s) => s.approved !== null);
  }

  private async requireAwaitingApproval(workflowId: string): Promise<void> {
    const state = await this.get(workflowId);
    if (state.status !== 'awaiting_approval' || state.approved !== null) {
      throw new HttpError(409, 'not_awaiting_approval', `Rollout ${workflowId} is ${state.status}, not awaiting approval`);
    }
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
