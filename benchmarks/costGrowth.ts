/**
 * Cost growth: the same rollout (minimum windows, stages 10/50/100) over 10, 100 and 1,000 simulated
 * replicas, found by discovery (a small discovery server here answers the deployment's
 * `GET /servetune/v1/replicas`, as the simulator or the agent would). The worker runs in a child process; for each size:
 * time outside simulated work (monitoring windows and config applies), the worker's CPU time (the
 * agent's own cost, whatever the simulator costs), the worker's RSS, and the workflow history's size.
 * Scraping and pushing should grow linearly; the history should stay flat. The ratio column divides
 * by the 10-replica figure.
 *
 * Replicas are spread over simulated deployments of at most 100: the simulator's config push and scrape
 * cost O(replicas in the deployment) each, so one deployment of 1,000 spends a minute in the simulator
 * per rollout (see BENCHMARKS.md) and the figure would measure the simulator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowState } from '../models';
import { rolloutInput, uniqueId, type BenchContext } from './context';
import { cpuMsOf, rssOf, watchRss } from './embedded';
import { activityTime, historyBytes, largestEvents, timerTime } from './history';
import { SIM_DEPLOYMENT_SIZE } from './metricsParsing';
import { MB, median, type Row } from './stats';
import { ROLLOUT_WORKFLOW_TYPE } from '../contract';

const SIZES = [10, 100, 1000];

/** Deployment endpoints that answer discovery with a given list: `http://127.0.0.1:<port>/<name>`. */
async function startDiscovery(): Promise<{ serve(name: string, replicas: string[]): string; close(): Promise<void> }> {
  const lists = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const name = /^\/([^/]+)\/servetune\/v1\/replicas$/.exec(req.url ?? '')?.[1];
    const body = name ? lists.get(name) : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    serve(name, replicas) {
      lists.set(name, JSON.stringify({ replicas }));
      return `http://127.0.0.1:${port}/${name}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Run {
  activeMs: number;
  applyMs: number;
  cpuMs: number;
  historyBytes: number;
  rssGrowth: number;
  rssPeak: number;
  largest: string;
}

export async function costGrowth(ctx: BenchContext): Promise<Row[]> {
  const { embedded } = ctx;
  const taskQueue = uniqueId('bench-cost');
  // Two rollouts per size, one of 1,000 (it takes ~20 s); --quick: one each of 10 and 100 only. One set of
  // deployments per rollout (a warm-up of 10 first), so every rollout finds the initial config.
  const sizes = ctx.quick ? SIZES.slice(0, 2) : SIZES;
  const plan = [10, ...sizes.flatMap((size) => Array.from({ length: ctx.quick || size >= 1000 ? 1 : 2 }, () => size))];
  const specs = plan.flatMap((size) =>
    Array.from({ length: Math.ceil(size / SIM_DEPLOYMENT_SIZE) }, () => ({ engine: 'vllm' as const, port: 0, replicas: Math.min(size, SIM_DEPLOYMENT_SIZE) })),
  );
  const fleet = await embedded.spawnFleet(specs);
  const discovery = await startDiscovery();
  const worker = await embedded.spawnWorker(taskQueue);
  const runs = new Map<number, Run[]>(sizes.map((s) => [s, []]));
  try {
    let next = 0;
    for (const [k, size] of plan.entries()) {
      const deployments = fleet.deployments.slice(next, next + Math.ceil(size / SIM_DEPLOYMENT_SIZE));
      next += deployments.length;
      const replicas = deployments.flatMap((d) => d.replicaAddresses);
      const before = rssOf(worker.pid);
      const cpuBefore = cpuMsOf(worker.pid);
      const during = watchRss(worker.pid, 50);
      const t0 = performance.now();
      // Found by discovery, the default way: the request names only the deployment.
      const instance_id = discovery.serve(`cost-${k}`, replicas);
      const handle = await embedded.env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId(`cost-${size}`),
        args: [rolloutInput({ instance_id })],
      });
      const final = (await handle.result()) as WorkflowState;
      const wall = performance.now() - t0;
      const cpuMs = cpuMsOf(worker.pid) - cpuBefore;
      const { peak } = during.stop();
      if (final.status !== 'completed') throw new Error(`cost rollout over ${size} replicas ended ${final.status}: ${final.error_message}`);
      if (final.replicas.length !== size) throw new Error(`rollout saw ${final.replicas.length} replicas, expected ${size}`);
      if (k === 0) continue; // warm-up
      const history = await handle.fetchHistory();
      const applyMs = activityTime(history, 'applyConfig');
      runs.get(size)!.push({
        activeMs: wall - timerTime(history) - applyMs,
        applyMs,
        cpuMs,
        historyBytes: historyBytes(history),
        rssGrowth: Math.max(0, peak - before),
        rssPeak: peak,
        largest: largestEvents(history, 2).map((e) => `${e.type} ${(e.bytes / 1024).toFixed(0)} KiB`).join(', '),
      });
      ctx.log(`cost: ${size} replicas: ${(wall / 1000).toFixed(1)} s wall, ${(applyMs / 1000).toFixed(1)} s in applyConfig, worker CPU ${(cpuMs / 1000).toFixed(1)} s`);
    }
  } finally {
    await worker.stop();
    await fleet.stop();
    await discovery.close();
  }

  const base = runs.get(SIZES[0])!;
  const baseOf = (f: (r: Run) => number) => median(base.map(f));
  const rows: Row[] = [];
  const growthRow = (
    label: string,
    f: (r: Run) => number,
    unit: number,
    target: (size: number, ratio: number) => { text: string; met: boolean | null },
    samples: (r: Run[]) => string,
    digits = 2,
  ) => {
    for (const size of sizes) {
      const r = runs.get(size)!;
      const ratio = median(r.map(f)) / baseOf(f);
      const t = size === SIZES[0] ? { text: '', met: null } : target(size, ratio);
      rows.push({
        figure: `Cost growth, ${size} replicas: ${label}`,
        median: median(r.map(f)) / unit,
        tail: Math.max(...r.map(f)) / unit,
        tailLabel: 'max',
        target: t.text,
        ratio,
        met: t.met,
        samples: samples(r),
        digits,
      });
    }
  };
  const linear = (size: number, ratio: number) => ({ text: `≤ linear (${size / SIZES[0]}×)`, met: ratio <= size / SIZES[0] });
  growthRow(
    'rollout time outside windows and applies (s)',
    (r) => r.activeMs,
    1000,
    linear,
    (r) => `${r.length} rollout(s); applyConfig ${(median(r.map((x) => x.applyMs)) / 1000).toFixed(1)} s more`,
  );
  growthRow('worker CPU per rollout (s)', (r) => r.cpuMs, 1000, linear, (r) => `${r.length} rollout(s), /proc/<pid>/stat`);
  growthRow(
    'workflow history (KiB)',
    (r) => r.historyBytes,
    1024,
    (_size, ratio) => ({ text: 'flat (≤ 1.5 × 10 replicas)', met: ratio <= 1.5 }),
    (r) => `largest events: ${r[0].largest}`,
    1,
  );
  growthRow(
    'worker peak RSS during the rollout (MiB)',
    (r) => r.rssPeak,
    MB,
    () => ({ text: '', met: null }),
    (r) => `RSS every 50 ms; grew ${(median(r.map((x) => x.rssGrowth)) / MB).toFixed(1)} MiB during it`,
    0,
  );
  return rows;
}
