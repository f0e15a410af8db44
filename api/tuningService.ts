import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalDeploymentKey } from '../core/targetAddress';
import { initialTuningState } from '../core/tuningRun';
import type { StopTuningPayload, TuningConstraint, TuningRequest, TuningState } from '../models';
import type { ClaimRequest } from '../workflows/definitions';
import { getTuningStateQuery, stopTuningUpdate } from '../workflows/tuningDefinitions';
import { DEPLOYMENT_GUARD_WORKFLOW_TYPE, DEPLOYMENT_KEY, restUpdateId, ROLLOUT_KEY, TUNING_ID_PREFIX, TUNING_WORKFLOW_TYPE, tuningId, WRONG_STATE_ERROR } from '../contract';
import { HttpError } from './httpError';
import { quoteVisibility } from './rolloutReads';
import type { RolloutService } from './rolloutService';

/** How many of the previous run's constraints a new run takes over. */
const MAX_CARRIED_CONSTRAINTS = 200;

/** Tuning runs over REST: start (claims the deployment like a rollout), read, stop. No state of its own. */
export class TuningService {
  constructor(
    private readonly client: Client,
    private readonly rollouts: RolloutService,
  ) {}

  /**
   * Claims the deployment through its guard, which then runs the tuning as its child for as long as it
   * lasts. The constraints the deployment's last finished run learnt come along, read from that run's
   * result in Temporal.
   */
  async start(req: TuningRequest, startedBy: string): Promise<TuningState> {
    const deploymentKey = canonicalDeploymentKey(req.instance_id);
    const id = tuningId(randomUUID());
    const { target_health: _t, approval: _a, budget: _b, ...rollout } = req;
    const claim: ClaimRequest = {
      rollout_id: id,
      request: { ...rollout, requires_approval: false, auto_rollout: true },
      started_by: startedBy,
      deployment_key: deploymentKey,
      tuning: req,
      known_constraints: await this.lastConstraints(deploymentKey),
    };
    await this.rollouts.claimDeployment(claim);
    return { ...initialTuningState(id, req, startedBy, new Date().toISOString()), constraints: claim.known_constraints ?? [] };
  }

  /** The constraints of the deployment's most recent finished tuning run, or none. */
  private async lastConstraints(deploymentKey: string): Promise<TuningConstraint[]> {
    const query = `WorkflowType = '${TUNING_WORKFLOW_TYPE}' AND ${DEPLOYMENT_KEY.name} = ${quoteVisibility(deploymentKey)} AND ExecutionStatus = 'Completed'`;
    for await (const wf of this.client.workflow.list({ query, pageSize: 1 })) {
      const last = (await this.client.workflow.getHandle(wf.workflowId, wf.runId).result()) as TuningState;
      return last.constraints.slice(-MAX_CARRIED_CONSTRAINTS);
    }
    return [];
  }

  async get(id: string, retryNotFound = true): Promise<TuningState> {
    if (!id.startsWith(TUNING_ID_PREFIX)) throw new HttpError(404, 'not_found', `No tuning run with id ${id}`);
    try {
      return await this.client.workflow.getHandle(id).query(getTuningStateQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    // Accepted a moment ago: the guard has not started the run yet.
    const pending = await this.pending(id);
    if (pending) return pending;
    if (retryNotFound) {
      await sleep(250);
      return this.get(id, false);
    }
    throw new HttpError(404, 'not_found', `No tuning run with id ${id}`);
  }

  private async pending(id: string): Promise<TuningState | null> {
    const query = `WorkflowType = '${DEPLOYMENT_GUARD_WORKFLOW_TYPE}' AND ${ROLLOUT_KEY.name} = ${quoteVisibility(id)} AND ExecutionStatus = 'Running'`;
    for await (const guard of this.client.workflow.list({ query, pageSize: 1 })) {
      const claim = guard.memo?.claim as ClaimRequest | undefined;
      if (claim?.tuning) return initialTuningState(id, claim.tuning, claim.started_by, guard.startTime.toISOString());
    }
    return null;
  }

  /** Asks the run to stop after its current iteration; answers its state once it has taken the request. */
  async stop(id: string, payload: StopTuningPayload): Promise<TuningState> {
    await this.get(id);
    try {
      return await this.client.workflow.getHandle(id).executeUpdate(stopTuningUpdate, { updateId: restUpdateId(randomUUID()), args: [payload] });
    } catch (err) {
      const failure = err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure ? err.cause : null;
      if (failure?.type === WRONG_STATE_ERROR || err instanceof WorkflowNotFoundError) {
        const state = await this.get(id);
        throw new HttpError(409, 'not_running', `Tuning run ${id} is ${state.status}; only a running one can be stopped`);
      }
      throw err;
    }
  }
}
