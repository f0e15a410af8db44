import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { logger as rootLogger } from '../runtime/logger';

const current = new AsyncLocalStorage<Logger>();

/** The fields every log line about an activity of a rollout carries. */
export function activityLogFields(): Record<string, unknown> {
  const info = Context.current().info;
  return {
    workflow_id: info.workflowExecution?.workflowId,
    run_id: info.workflowExecution?.runId,
    activity_type: info.activityType,
    activity_id: info.activityId,
    attempt: info.attempt,
  };
}

/** A child of `base` carrying the running activity's workflow_id, activity type and attempt. */
export function activityChildLogger(base: Logger = rootLogger): Logger {
  try {
    return base.child(activityLogFields());
  } catch {
    // Not inside an activity (a unit test calling the function directly).
    return base;
  }
}

/** Runs `fn` with `log` as the logger `activityLog()` returns (the worker's activity interceptor does this). */
export function runWithActivityLogger<T>(log: Logger, fn: () => T): T {
  return current.run(log, fn);
}

/**
 * The logger for activity code: the one the worker's interceptor bound to this execution, else a child
 * of the process logger built from the activity context. Either way it carries `workflow_id`.
 */
export function activityLog(): Logger {
  return current.getStore() ?? activityChildLogger();
}
