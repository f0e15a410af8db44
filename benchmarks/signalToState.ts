/**
 * Signal to visible state: rollouts wait for approval; for each, one `POST .../approve` over REST and
 * then `GET .../:id` until the status is no longer `awaiting_approval`. The figure is the time from
 * sending the approve to the first GET that shows the new status. Gateway (createApp) and worker run
 * in this process on the shared dev server; approvals are made one at a time.
 */
import type { Client } from '@temporalio/client';
import type { WorkflowState } from '../models';
import { rolloutInput, uniqueId, type BenchContext } from './context';
import { median, p99, type Row } from './stats';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROLLOUT_WORKFLOW_TYPE } from '../contract';

/** Visibility count of `query`, polled until it reaches `n` (the dev server indexes search attributes at once). */
export async function waitForCount(client: Client, query: string, n: number, what: string, timeoutMs = 300_000, log?: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const count = Number((await client.workflow.count(query)).count);
    if (count >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${count} of ${n} ${what} within ${timeoutMs / 1000} s (${query})`);
    if (log && Date.now() - lastLog > 10_000) {
      log(`${count} of ${n} ${what}`);
      lastLog = Date.now();
    }
    await sleep(250);
  }
}

/**
 * Starts workflows with `start(i)` and waits until `count` match `parkedQuery`, keeping at most
 * `maxPending` started but not yet parked: more than the worker's cache would only make it evict and
 * replay them on every step.
 */
export async function startAndPark(
  client: Client,
  count: number,
  parkedQuery: string,
  start: (i: number) => Promise<string>,
  opts: { maxPending?: number; timeoutMs?: number; log?: (line: string) => void; what?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  const maxPending = opts.maxPending ?? count;
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  const what = opts.what ?? 'workflows parked';
  let done = 0;
  let lastLog = Date.now();
  while (done < count) {
    if (Date.now() > deadline) throw new Error(`only ${done} of ${count} ${what} in time (${parkedQuery})`);
    const toStart = Math.min(count - ids.length, maxPending - (ids.length - done));
    if (toStart > 0) ids.push(...(await Promise.all(Array.from({ length: toStart }, (_, k) => start(ids.length + k)))));
    await sleep(250);
    done = Number((await client.workflow.count(parkedQuery)).count);
    if (opts.log && Date.now() - lastLog > 10_000) {
      opts.log(`${done} of ${count} ${what}`);
      lastLog = Date.now();
    }
  }
  return ids;
}

/** Starts `count` rollouts that park awaiting approval, one replica each, and waits until all do. */
export async function startParkedRollouts(
  client: Client,
  taskQueue: string,
  replicaAddresses: string[],
  count: number,
  opts: { monitoringSeconds?: number; maxPending?: number; timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<string[]> {
  const parkedQuery = `WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}' AND ServetuneStatus = 'awaiting_approval'`;
  return startAndPark(
    client,
    count,
    parkedQuery,
    async (i) => {
      const workflowId = uniqueId('parked');
      await client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        args: [
          rolloutInput({
            instance_id: `bench-deployment-${workflowId}`,
            replicas: [replicaAddresses[i % replicaAddresses.length]],
            requires_approval: true,
            monitoring_duration_seconds: opts.monitoringSeconds ?? 600,
          }),
        ],
      });
      return workflowId;
    },
    { ...opts, what: 'rollouts awaiting approval' },
  );
}

export async function signalToState(ctx: BenchContext): Promise<Row[]> {
  const { embedded } = ctx;
  const approvals = ctx.quick ? 10 : 30;
  const taskQueue = uniqueId('bench-signal');
  const fleet = await embedded.spawnFleet([{ engine: 'vllm', port: 0, replicas: approvals }]);
  const worker = await embedded.startRolloutWorker(taskQueue);
  const gateway = await embedded.startGateway(taskQueue);
  const visible: number[] = [];
  const approveCall: number[] = [];
  try {
    // A long window: once approved, a rollout pushes its first stage and sleeps, adding no load.
    const ids = await startParkedRollouts(embedded.env.client, taskQueue, fleet.deployments[0].replicaAddresses, approvals, {
      monitoringSeconds: 600,
    });
    for (const id of ids) {
      const t0 = performance.now();
      const res = await fetch(`${gateway.url}/api/v1/workflows/${id}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ approved_by: 'bench', comment: 'signal-to-state' }),
      });
      if (res.status !== 200) throw new Error(`approve ${id}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      approveCall.push(performance.now() - t0);
      for (;;) {
        const got = await fetch(`${gateway.url}/api/v1/workflows/${id}`);
        const state = (await got.json()) as WorkflowState;
        if (state.status !== 'awaiting_approval') break;
      }
      visible.push(performance.now() - t0);
      await sleep(20);
    }
  } finally {
    await gateway.close();
    await worker.stop();
    await fleet.stop();
  }
  ctx.log(`signal: approve call p50 ${median(approveCall).toFixed(1)} ms; visible p50 ${median(visible).toFixed(1)} ms, p99 ${p99(visible).toFixed(1)} ms`);
  return [
    {
      figure: 'Signal to visible state: REST approve → GET shows new status (ms)',
      median: median(visible),
      tail: p99(visible),
      tailLabel: approvals >= 100 ? 'p99' : 'max',
      target: 'p99 ≤ 100 ms',
      met: p99(visible) <= 100,
      samples: `${visible.length} approvals`,
    },
  ];
}
