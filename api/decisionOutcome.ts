import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

const Stage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;
const TaskState = temporal.api.enums.v1.PendingWorkflowTaskState;

/**
 * What became of a decision the gateway stopped waiting for at its deadline:
 * - `taken`: a worker accepted it; it has taken effect.
 * - `not_taken`: no worker accepted it and none can any more: a worker that receives it later runs
 *   the validator at a workflow time past `valid_until`, which refuses it.
 * - `unknown`: a workflow task that started before the deadline was still running when we gave up.
 */
export type UnansweredOutcome = 'taken' | 'not_taken' | 'unknown';

export interface SettleOptions {
  /** How long to wait for a workflow task that started before the deadline to finish. */
  maxWaitMs?: number;
  pollMs?: number;
}

/**
 * Settles a decision whose update call hit its deadline. Temporal keeps an update that no worker has
 * accepted and delivers it when a worker returns; the workflow refuses it then because its deadline has
 * passed by workflow time (the time the workflow task started). The one case left is a workflow task
 * that started before the deadline and is still running: it may accept the update, so we wait for it
 * (a workflow task times out after 10 s by default, and its retry starts after the deadline).
 */
export async function settleUnanswered(client: Client, workflowId: string, updateId: string, validUntilMs: number, opts: SettleOptions = {}): Promise<UnansweredOutcome> {
  const giveUpAt = Date.now() + (opts.maxWaitMs ?? 15_000);
  for (;;) {
    const stage = await updateStage(client, workflowId, updateId);
    if (stage === Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED || stage === Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED) return 'taken';
    if (!(await workflowTaskStartedBy(client, workflowId, validUntilMs))) {
      // The task may have finished (and accepted the update) between the two reads: look once more.
      const after = await updateStage(client, workflowId, updateId);
      return after === Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED || after === Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED ? 'taken' : 'not_taken';
    }
    if (Date.now() > giveUpAt) return 'unknown';
    await sleep(opts.pollMs ?? 200);
  }
}

/** The update's lifecycle stage without waiting (ADMITTED wait policy), or null when the server does not know it. */
async function updateStage(client: Client, workflowId: string, updateId: string): Promise<number | null> {
  try {
    const res = await client.connection.withDeadline(Date.now() + 5000, () =>
      client.workflowService.pollWorkflowExecutionUpdate({
        namespace: client.options.namespace,
        updateRef: { workflowExecution: { workflowId }, updateId },
        identity: client.options.identity,
        waitPolicy: { lifecycleStage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED },
      }),
    );
    return res.stage ?? null;
  } catch (err) {
    // NOT_FOUND: never admitted, or dropped (a server restart drops admitted updates): it cannot be taken.
    if ((err as { code?: number }).code === 5) return null;
    throw err;
  }
}

/** Whether a workflow task that started at or before `ms` (and so may accept the update) is running now. */
async function workflowTaskStartedBy(client: Client, workflowId: string, ms: number): Promise<boolean> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const task = raw.pendingWorkflowTask;
  if (!task || task.state !== TaskState.PENDING_WORKFLOW_TASK_STATE_STARTED) return false;
  return (optionalTsToMs(task.startedTime) ?? 0) <= ms;
}
