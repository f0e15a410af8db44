/**
 * Worker memory with 1,000 rollouts in flight: `worker/main.ts` in a child process (so its RSS is its
 * own, read from /proc/<pid>/status), with the default workflow cache (WORKER_MAX_CACHED_WORKFLOWS,
 * 200). Rollouts are started directly with the client (no gateway in the way); 90% are left waiting
 * for approval, 10% are approved and sit in a 10-minute monitoring window.
 *
 * The floor is the same SDK worker, same cache size, in its own child process, with as many bare
 * workflows in flight (one no-op activity, then a 10-minute timer): what Temporal itself costs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithConcurrency } from '../activities/concurrency';
import { DEFAULT_MAX_CACHED_WORKFLOWS, intFromEnv } from '../runtime/settings';
import { approveSignal } from '../workflows/definitions';
import { uniqueId, type BenchContext } from './context';
import { rssOf, watchRss, type ChildHandle } from './embedded';
import { startAndPark, startParkedRollouts, waitForCount } from './signalToState';
import { MB, median, type Row } from './stats';
import { ROLLOUT_WORKFLOW_TYPE } from '../contract';

/** The worker's default cache (runtime/settings.ts); BENCH_WORKER_CACHE measures another size. */
export const WORKER_CACHE = intFromEnv(process.env.BENCH_WORKER_CACHE, DEFAULT_MAX_CACHED_WORKFLOWS);
/**
 * Rollouts started but not yet parked, at most: about what the worker keeps up with while they start,
 * whatever its cache. A cache smaller than this evicts some rollouts during their 5 s baseline window
 * and replays them when it ends, as a burst of starts would in production.
 */
const MAX_PENDING = 150;

/** The target: settled RSS at most this many times the floor's, measured in the same run. */
const MAX_RATIO = 1.2;

async function steadyRss(pid: number, ms: number): Promise<number> {
  const samples: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    samples.push(rssOf(pid));
    await sleep(100);
  }
  return median(samples);
}

interface Measured {
  idle: number;
  settled: number;
  peak: number;
}

/** Idle RSS, then `park()`, then RSS settled with everything parked, and the peak on the way. */
async function measure(worker: ChildHandle, quick: boolean, park: () => Promise<void>): Promise<Measured> {
  await sleep(quick ? 500 : 1000);
  const idle = await steadyRss(worker.pid, quick ? 1000 : 2000);
  const watch = watchRss(worker.pid, 200);
  await park();
  await sleep(quick ? 1000 : 2000);
  const settled = await steadyRss(worker.pid, quick ? 1500 : 3000);
  return { idle, settled, peak: watch.stop().peak };
}

export async function memoryInFlight(ctx: BenchContext): Promise<Row[]> {
  const { embedded } = ctx;
  const client = embedded.env.client;
  const inFlight = ctx.quick ? 60 : 1000;
  const maxPending = MAX_PENDING;
  const started = Date.now();

  // Rollouts.
  const taskQueue = uniqueId('bench-memory');
  const fleet = await embedded.spawnFleet([1, 2].map(() => ({ engine: 'vllm' as const, port: 0, replicas: 100 })));
  const worker = await embedded.spawnWorker(taskQueue, { WORKER_MAX_CACHED_WORKFLOWS: String(WORKER_CACHE) });
  let rollouts: Measured;
  try {
    rollouts = await measure(worker, ctx.quick, async () => {
      const addresses = fleet.deployments.flatMap((d) => d.replicaAddresses);
      const ids = await startParkedRollouts(client, taskQueue, addresses, inFlight, { monitoringSeconds: 600, maxPending, log: ctx.log });
      // Approve 10%: each pushes its first stage and then sleeps in its 600 s monitoring window.
      const toApprove = ids.slice(0, Math.floor(ids.length / 10));
      await mapWithConcurrency(toApprove, 20, (id) => client.workflow.getHandle(id).signal(approveSignal, { approved_by: 'bench', channel: 'temporal' }));
      const monitoring = `WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}' AND ServetuneStatus = 'rolling_out'`;
      await waitForCount(client, monitoring, toApprove.length, 'approved rollouts in their monitoring window', 300_000, ctx.log);
    });
  } finally {
    await worker.stop();
    await fleet.stop();
  }
  ctx.log(`memory: rollout worker idle ${(rollouts.idle / MB).toFixed(0)} MiB, ${inFlight} in flight ${(rollouts.settled / MB).toFixed(0)} MiB (peak ${(rollouts.peak / MB).toFixed(0)} MiB)`);

  // Floor: bare workflows on the same SDK worker.
  const floorQueue = uniqueId('bench-memory-floor');
  const floorWorker = await embedded.spawnFloorWorker(floorQueue, { WORKER_MAX_CACHED_WORKFLOWS: String(WORKER_CACHE) });
  let floor: Measured;
  try {
    floor = await measure(floorWorker, ctx.quick, async () => {
      const parked = `WorkflowType = 'floorWorkflow' AND TaskQueue = '${floorQueue}' AND ServetuneStatus = 'parked'`;
      await startAndPark(
        client,
        inFlight,
        parked,
        async () => {
          const workflowId = uniqueId('floor-parked');
          await client.workflow.start('floorWorkflow', { taskQueue: floorQueue, workflowId, args: [[{ a: 1, t: 0 }], 1, 600_000] });
          return workflowId;
        },
        { maxPending, log: ctx.log, what: 'floor workflows parked' },
      );
    });
  } finally {
    await floorWorker.stop();
  }
  const perRollout = (rollouts.settled - rollouts.idle) / Math.min(inFlight, WORKER_CACHE);
  const perFloor = (floor.settled - floor.idle) / Math.min(inFlight, WORKER_CACHE);
  ctx.log(
    `memory: floor worker idle ${(floor.idle / MB).toFixed(0)} MiB, ${inFlight} in flight ${(floor.settled / MB).toFixed(0)} MiB; ` +
      `per cached workflow: rollout ${(perRollout / MB).toFixed(2)} MiB, floor ${(perFloor / MB).toFixed(2)} MiB; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return [
    {
      figure: `Worker RSS, ${inFlight} rollouts in flight, cache ${WORKER_CACHE} (MiB)`,
      median: rollouts.settled / MB,
      tail: rollouts.peak / MB,
      tailLabel: 'max',
      target: `≤ ${MAX_RATIO} × floor`,
      ratio: rollouts.settled / floor.settled,
      met: rollouts.settled / floor.settled <= MAX_RATIO,
      samples: `settled, max while starting; idle ${(rollouts.idle / MB).toFixed(0)} MiB; ${(perRollout / MB).toFixed(2)} MiB per cached rollout`,
      digits: 0,
    },
    {
      figure: `Worker RSS, floor: ${inFlight} bare workflows in flight, cache ${WORKER_CACHE} (MiB)`,
      median: floor.settled / MB,
      tail: floor.peak / MB,
      tailLabel: 'max',
      target: '',
      met: null,
      samples: `idle ${(floor.idle / MB).toFixed(0)} MiB; ${(perFloor / MB).toFixed(2)} MiB per cached workflow`,
      digits: 0,
    },
  ];
}
