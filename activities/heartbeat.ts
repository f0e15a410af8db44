import { Context } from '@temporalio/activity';

/**
 * Heartbeats every `intervalMs` while `work` runs. A worker that dies mid-activity then stops
 * heartbeating, and Temporal retries the activity elsewhere after the heartbeat timeout instead of
 * waiting out the (long) start-to-close timeout of an engine restart.
 */
export async function withHeartbeat<T>(work: () => Promise<T>, intervalMs = 2000): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
