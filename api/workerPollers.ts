import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** What /readyz says about the workers: whether any polls the task queue, from a recent DescribeTaskQueue. */
export interface WorkerPolling {
  /** null when Temporal could not be asked. */
  polling: boolean | null;
  /** Pollers seen on the workflow task queue within the freshness window. */
  pollers: number;
  checked_at: string;
}

/**
 * A poller long-polls for up to a minute and then polls again, so one last seen within this window is
 * a worker still running; a worker stopped a moment ago drops out within it.
 */
export const POLLER_FRESH_MS = 90_000;

/**
 * Whether any worker polls the gateway's task queue. Asked with one DescribeTaskQueue and remembered for
 * `cacheMs`, so a load balancer probing /readyz every second costs Temporal one call per window.
 */
export class WorkerPollers {
  private last: { at: number; value: WorkerPolling } | null = null;
  private inFlight: Promise<WorkerPolling> | null = null;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly cacheMs = 5000,
  ) {}

  check(timeoutMs: number): Promise<WorkerPolling> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return Promise.resolve(this.last.value);
    this.inFlight ??= this.ask(timeoutMs).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async ask(timeoutMs: number): Promise<WorkerPolling> {
    const now = Date.now();
    let value: WorkerPolling;
    try {
      const res = await this.client.connection.withDeadline(now + timeoutMs, () =>
        this.client.workflowService.describeTaskQueue({
          namespace: this.client.options.namespace,
          taskQueue: { name: this.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const fresh = (res.pollers ?? []).filter((p) => now - timestampMs(p.lastAccessTime) <= POLLER_FRESH_MS);
      value = { polling: fresh.length > 0, pollers: fresh.length, checked_at: new Date(now).toISOString() };
    } catch {
      value = { polling: null, pollers: 0, checked_at: new Date(now).toISOString() };
    }
    this.last = { at: now, value };
    return value;
  }
}

function timestampMs(t: temporal.api.taskqueue.v1.IPollerInfo['lastAccessTime']): number {
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}
