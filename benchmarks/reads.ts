/**
 * Reads that need no worker, each against a floor measured in the same run (the worker is stopped
 * before any is measured, so none of them can lean on it):
 *
 * - finished, uncached: `GET /api/v1/workflows/:id` of rollouts that ended (each read asks Temporal:
 *   one reverse-history call), vs the floor: a bare `DescribeWorkflowExecution` of the same rollouts in a
 *   loop from this process, same concurrency;
 * - finished, cached: the same GETs answered from the gateway's finished-read cache, vs the floor: the
 *   same bodies answered from a Map by the same HTTP server (benchmarks/readsGatewayChild.ts);
 * - list: `GET /api/v1/workflows?limit=200` over 200 rollouts, vs the floor: the same
 *   `ListWorkflowExecutions` call (the query the gateway builds, page size 200) alone in a loop.
 */
import { randomUUID } from 'node:crypto';
import { listQuery } from '../api/rolloutReads';
import { DEPLOYMENT_KEY, ENGINE_KEY, ROLLOUT_WORKFLOW_TYPE, rolloutId, STAGE_KEY, STATUS_KEY, SUMMARY_MEMO_KEY } from '../contract';
import { rolloutSummary } from '../core/rolloutSummary';
import type { WorkflowState } from '../models';
import { rolloutInput, uniqueId, type BenchContext } from './context';
import { cannon, perSecond, type LoadResult } from './gateway';
import { waitForCount } from './signalToState';
import { median, p99, type Row } from './stats';

const CONNECTIONS = 10;
/** A list answer carries 200 rows: fewer callers at once, for gateway and floor alike. */
const LIST_CONNECTIONS = 4;
const LISTED = 200;
/** Lists per phase, counted rather than timed: one list of 200 can take seconds on a busy machine. */
const LIST_CALLS = { quick: 20, full: 200 };
/** Reads per second of a finished rollout before reads stopped needing a worker (BENCHMARKS.md, the query path). */
const OLD_READS_PER_SECOND = 74;

/**
 * `call` from `loops` concurrent loops for `seconds` (or until `calls` have been made): the floor,
 * measured as the gateway's load is.
 */
async function loop(loops: number, seconds: number, call: (i: number) => Promise<unknown>, calls = Infinity): Promise<LoadResult> {
  const latencies: number[] = [];
  const stamps: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (calls === Infinity ? performance.now() < end : i < calls) {
        const t0 = performance.now();
        await call(i++);
        const t1 = performance.now();
        latencies.push(t1 - t0);
        stamps.push(t1);
      }
    }),
  );
  const took = calls === Infinity ? seconds : (performance.now() - start) / 1000;
  return { latencies, perSecond: perSecond(stamps, start, took), ok: latencies.length, failed: 0, seconds: took };
}

function getEach(url: string, prefix: string, ids: string[], connections: number, duration: number): Promise<LoadResult> {
  let k = 0;
  return cannon({ url, connections, duration, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `${prefix}${ids[k++ % ids.length]}` }) }] }, 200);
}

/** Rollouts that end on their own soon after their analysis: they wait for an approval that times out. */
async function finishedRollouts(ctx: BenchContext, taskQueue: string, replicas: string[], count: number): Promise<string[]> {
  const client = ctx.embedded.env.client;
  const ids = Array.from({ length: count }, () => rolloutId(randomUUID()));
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      ids.slice(i, i + 20).map((workflowId, k) =>
        client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          args: [rolloutInput({ instance_id: `bench-reads-${workflowId}`, replicas: [replicas[(i + k) % replicas.length]], requires_approval: true, approval_timeout_seconds: 1 })],
        }),
      ),
    );
  }
  await waitForCount(client, `WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`, count, 'rollouts finished', 300_000, ctx.log);
  return ids;
}

/**
 * Rollouts to list, started with the memo and search attributes a running rollout keeps (its summary
 * taken from a real finished state) on a task queue no worker polls: the list reads visibility only.
 */
async function listedRollouts(ctx: BenchContext, taskQueue: string, like: WorkflowState): Promise<void> {
  const client = ctx.embedded.env.client;
  for (let i = 0; i < LISTED; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, LISTED - i) }, () => {
        const workflowId = rolloutId(randomUUID());
        const summary = { ...rolloutSummary(like), workflow_id: workflowId, status: 'awaiting_approval' as const, current_step: 'await_approval' as const };
        return client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          args: [rolloutInput({ instance_id: summary.instance_id })],
          memo: { [SUMMARY_MEMO_KEY]: summary },
          typedSearchAttributes: [
            { key: DEPLOYMENT_KEY, value: summary.instance_id },
            { key: ENGINE_KEY, value: like.instance_type },
            { key: STATUS_KEY, value: summary.status },
            { key: STAGE_KEY, value: 'none' },
          ],
        });
      }),
    );
  }
  await waitForCount(client, `TaskQueue = '${taskQueue}'`, LISTED, 'rollouts to list', 120_000, ctx.log);
}

export async function readsLoad(ctx: BenchContext): Promise<Row[]> {
  const { embedded } = ctx;
  const client = embedded.env.client;
  const namespace = embedded.namespace;
  const duration = ctx.quick ? 3 : 20;
  const finishedCount = ctx.quick ? 20 : 100;
  const readsQueue = uniqueId('bench-reads');
  const listQueue = uniqueId('bench-list');

  const fleet = await embedded.spawnFleet([{ engine: 'vllm', port: 0, replicas: 20 }]);
  const worker = await embedded.spawnWorker(readsQueue);
  let ids: string[];
  try {
    ids = await finishedRollouts(ctx, readsQueue, fleet.deployments[0].replicaAddresses, finishedCount);
  } finally {
    // Every figure below is taken with no worker running.
    await worker.stop();
    await fleet.stop();
  }
  await listedRollouts(ctx, listQueue, await client.workflow.getHandle(ids[0]).result());

  const gateway = await embedded.spawnReadsGateway({ BENCH_READS_QUEUE: readsQueue, BENCH_LIST_QUEUE: listQueue });
  let uncached: LoadResult, describeFloor: LoadResult, cached: LoadResult, dictFloor: LoadResult, list: LoadResult, listFloor: LoadResult;
  let listRows: number;
  try {
    // Warm both paths (connections; the cached gateway's cache), and fill the dictionary with the same bodies.
    for (const id of ids) {
      await fetch(`${gateway.url}/uncached/api/v1/workflows/${id}`).then((r) => r.arrayBuffer());
      const body = await fetch(`${gateway.url}/api/v1/workflows/${id}`).then((r) => r.text());
      await fetch(`${gateway.url}/floor/dict/${id}`, { method: 'PUT', body });
    }
    listRows = ((await fetch(`${gateway.url}/list/api/v1/workflows?limit=${LISTED}`).then((r) => r.json())) as { workflows: unknown[] }).workflows.length;

    uncached = await getEach(gateway.url, '/uncached/api/v1/workflows/', ids, CONNECTIONS, duration);
    describeFloor = await loop(CONNECTIONS, duration, (i) => client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: ids[i % ids.length] } }));
    cached = await getEach(gateway.url, '/api/v1/workflows/', ids, CONNECTIONS, duration);
    dictFloor = await getEach(gateway.url, '/floor/dict/', ids, CONNECTIONS, duration);

    const listCalls = ctx.quick ? LIST_CALLS.quick : LIST_CALLS.full;
    list = await cannon({ url: `${gateway.url}/list/api/v1/workflows?limit=${LISTED}`, connections: LIST_CONNECTIONS, amount: listCalls, timeout: 60 }, 200);
    const query = listQuery(listQueue, {});
    listFloor = await loop(LIST_CONNECTIONS, 0, () => client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: LISTED }), listCalls);
  } finally {
    await gateway.stop();
  }
  const window = `${duration} s`;
  const fmtPhase = (name: string, r: LoadResult) => `${name} ${median(r.perSecond)}/s p50 ${median(r.latencies).toFixed(1)} ms p99 ${p99(r.latencies).toFixed(1)} ms${r.failed ? ` (${r.failed} failed)` : ''}`;
  ctx.log(`reads: ${[fmtPhase('uncached', uncached), fmtPhase('describe floor', describeFloor), fmtPhase('cached', cached), fmtPhase('dict floor', dictFloor), fmtPhase('list', list), fmtPhase('list floor', listFloor)].join('; ')}`);

  const uncachedP99Ratio = p99(uncached.latencies) / p99(describeFloor.latencies);
  const cachedShare = median(cached.perSecond) / median(dictFloor.perSecond);
  const listP99Ratio = p99(list.latencies) / p99(listFloor.latencies);
  return [
    {
      figure: 'Finished-rollout GET, uncached, no worker (ms)',
      median: median(uncached.latencies),
      tail: p99(uncached.latencies),
      tailLabel: 'p99',
      target: `p99 ≤ 1.2 × floor; ≥ ${5 * OLD_READS_PER_SECOND}/s`,
      ratio: median(uncached.latencies) / median(describeFloor.latencies),
      met: uncachedP99Ratio <= 1.2 && median(uncached.perSecond) >= 5 * OLD_READS_PER_SECOND && uncached.failed === 0,
      samples: `${window}, ${CONNECTIONS} connections, ${ids.length} rollouts; ${uncached.ok} reads, ${median(uncached.perSecond)}/s, ${uncached.failed} failed; p99 ratio ${uncachedP99Ratio.toFixed(2)}×`,
    },
    {
      figure: 'Read floor: DescribeWorkflowExecution in a loop (ms)',
      median: median(describeFloor.latencies),
      tail: p99(describeFloor.latencies),
      tailLabel: 'p99',
      target: '',
      met: null,
      samples: `${window}, ${CONNECTIONS} loops; ${median(describeFloor.perSecond)}/s`,
    },
    {
      figure: 'Finished-rollout GET, cached (ETag), per second',
      median: median(cached.perSecond),
      tail: Math.min(...cached.perSecond),
      tailLabel: 'min',
      target: '≥ 0.5 × floor',
      ratio: cachedShare,
      met: cachedShare >= 0.5 && cached.failed === 0,
      samples: `${window}, ${CONNECTIONS} connections; p50 ${median(cached.latencies).toFixed(1)} ms, p99 ${p99(cached.latencies).toFixed(1)} ms; ${cached.failed} failed`,
      digits: 0,
    },
    {
      figure: 'Read floor: Map lookup on the same HTTP server, per second',
      median: median(dictFloor.perSecond),
      tail: Math.min(...dictFloor.perSecond),
      tailLabel: 'min',
      target: '',
      met: null,
      samples: `${window}, ${CONNECTIONS} connections; p50 ${median(dictFloor.latencies).toFixed(1)} ms`,
      digits: 0,
    },
    {
      figure: `List of ${LISTED} rollouts (GET), no worker (ms)`,
      median: median(list.latencies),
      tail: p99(list.latencies),
      tailLabel: 'p99',
      target: 'p99 ≤ 1.2 × floor',
      ratio: median(list.latencies) / median(listFloor.latencies),
      met: listP99Ratio <= 1.2 && list.failed === 0 && listRows === LISTED,
      samples: `${list.ok} lists of ${listRows} rows in ${list.seconds.toFixed(0)} s, ${LIST_CONNECTIONS} connections, ${list.failed} failed; p99 ratio ${listP99Ratio.toFixed(2)}×`,
    },
    {
      figure: `List floor: one ListWorkflowExecutions of ${LISTED} (ms)`,
      median: median(listFloor.latencies),
      tail: p99(listFloor.latencies),
      tailLabel: 'p99',
      target: '',
      met: null,
      samples: `${listFloor.ok} calls in ${listFloor.seconds.toFixed(0)} s, ${LIST_CONNECTIONS} loops`,
    },
  ];
}

