/**
 * Gateway under sustained load on loopback, with autocannon. The gateway (`api/main.ts`) and the worker
 * (`worker/main.ts`) each run in a child process, so autocannon in this process does not share their
 * event loops and the gateway's RSS (from /proc) is its own.
 *
 * - reads: `GET /api/v1/workflows/:id` over 50 rollouts (20 with --quick) waiting for approval, 10 connections;
 * - floor: the same reads made directly with the Temporal client (`query(getState)`), 10 loops in
 *   this process (15 s; the loop needs no warm-up): what the gateway adds is the ratio;
 * - starts: `POST /api/v1/workflows`, each for its own deployment (one rollout per deployment), 10
 *   connections; every started rollout waits for approval, so the worker does their first steps.
 */
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { getStateQuery } from '../workflows/definitions';
import { uniqueId, type BenchContext } from './context';
import { watchRss } from './embedded';
import { startParkedRollouts } from './signalToState';
import { MB, median, p99, type Row } from './stats';

const CONNECTIONS = 10;

export interface LoadResult {
  latencies: number[];
  perSecond: number[];
  ok: number;
  failed: number;
  seconds: number;
}

/** Per-second counts of completed responses, whole seconds only. */
export function perSecond(stamps: number[], start: number, seconds: number): number[] {
  const counts = new Array<number>(Math.floor(seconds)).fill(0);
  for (const t of stamps) {
    const s = Math.floor((t - start) / 1000);
    if (s >= 0 && s < counts.length) counts[s]++;
  }
  return counts;
}

export async function cannon(opts: autocannon.Options, okStatus: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const stamps: number[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status === okStatus) {
      ok++;
      latencies.push(responseTime);
      stamps.push(performance.now());
    } else failed++;
  });
  const result = await done;
  failed += result.errors;
  return { latencies, perSecond: perSecond(stamps, start, result.duration), ok, failed, seconds: result.duration };
}

export async function gatewayLoad(ctx: BenchContext): Promise<Row[]> {
  const { embedded } = ctx;
  const client = embedded.env.client;
  const duration = ctx.quick ? 3 : 30;
  // The floor is a steady loop with no warm-up: half the time gives the same medians.
  const floorDuration = ctx.quick ? 3 : 15;
  const taskQueue = uniqueId('bench-gateway');
  const fleet = await embedded.spawnFleet([{ engine: 'vllm', port: 0, replicas: 200 }]);
  const worker = await embedded.spawnWorker(taskQueue);
  const gateway = await embedded.spawnGateway(taskQueue);
  const rss = watchRss(gateway.pid, 200);
  let reads: LoadResult;
  let floor: LoadResult;
  let starts: LoadResult;
  try {
    const ids = await startParkedRollouts(client, taskQueue, fleet.deployments[0].replicaAddresses, ctx.quick ? 20 : 50, { monitoringSeconds: 600, log: ctx.log });
    // Warm both paths (connections, the worker's cache of these 50 rollouts).
    for (const id of ids) await fetch(`${gateway.url}/api/v1/workflows/${id}`).then((r) => r.arrayBuffer());

    let k = 0;
    reads = await cannon(
      {
        url: gateway.url,
        connections: CONNECTIONS,
        duration,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/v1/workflows/${ids[k++ % ids.length]}` }) }],
      },
      200,
    );

    // Floor: the same reads with the Temporal client, same concurrency, same duration.
    const latencies: number[] = [];
    const stamps: number[] = [];
    const start = performance.now();
    const end = start + floorDuration * 1000;
    let j = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await client.workflow.getHandle(ids[j++ % ids.length]).query(getStateQuery);
          const t1 = performance.now();
          latencies.push(t1 - t0);
          stamps.push(t1);
        }
      }),
    );
    floor = { latencies, perSecond: perSecond(stamps, start, floorDuration), ok: latencies.length, failed: 0, seconds: floorDuration };

    const replicas = fleet.deployments[0].replicaAddresses;
    let n = 0;
    starts = await cannon(
      {
        url: gateway.url,
        connections: CONNECTIONS,
        duration,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/workflows',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => {
              const i = n++;
              return {
                ...req,
                body: JSON.stringify({
                  // One deployment per POST; a loopback address, as the default SERVETUNE_ALLOWED_TARGETS requires.
                  instance_id: `http://127.0.0.1:9/bench-start-${taskQueue}-${i}`,
                  instance_type: 'vllm',
                  replicas: [replicas[i % replicas.length]],
                  requires_approval: true,
                  monitoring_duration_seconds: 600,
                }),
              };
            },
          },
        ],
      },
      201,
    );
    await sleep(500);
  } finally {
    await gateway.stop();
    await worker.stop();
    await fleet.stop();
  }
  const gatewayRss = rss.stop();
  ctx.log(
    `gateway: reads ${median(reads.perSecond)}/s p50 ${median(reads.latencies).toFixed(1)} ms p99 ${p99(reads.latencies).toFixed(1)} ms (${reads.failed} failed); ` +
      `floor ${median(floor.perSecond)}/s p50 ${median(floor.latencies).toFixed(1)} ms p99 ${p99(floor.latencies).toFixed(1)} ms; ` +
      `starts ${median(starts.perSecond)}/s p50 ${median(starts.latencies).toFixed(1)} ms p99 ${p99(starts.latencies).toFixed(1)} ms (${starts.failed} failed)`,
  );
  const readRatio = median(reads.latencies) / median(floor.latencies);
  const window = `${duration} s, ${CONNECTIONS} connections`;
  return [
    {
      figure: 'Gateway state reads (GET), per second',
      median: median(reads.perSecond),
      tail: Math.min(...reads.perSecond),
      tailLabel: 'min',
      target: '≥ 500/s',
      met: median(reads.perSecond) >= 500 && reads.failed === 0,
      samples: `${window}; ${reads.ok} reads, ${reads.failed} failed`,
      digits: 0,
    },
    {
      figure: 'Gateway state read latency (ms)',
      median: median(reads.latencies),
      tail: p99(reads.latencies),
      tailLabel: 'p99',
      target: 'p99 ≤ 100 ms; ≤ 1.2 × floor',
      ratio: readRatio,
      met: p99(reads.latencies) <= 100 && readRatio <= 1.2,
      samples: `${reads.ok} reads; p99 ratio ${(p99(reads.latencies) / p99(floor.latencies)).toFixed(2)}×`,
    },
    {
      figure: 'Read floor: Temporal client query in a loop (ms)',
      median: median(floor.latencies),
      tail: p99(floor.latencies),
      tailLabel: 'p99',
      target: '',
      met: null,
      samples: `${floorDuration} s, ${CONNECTIONS} loops; ${median(floor.perSecond)} reads/s`,
    },
    {
      figure: 'Gateway rollout starts (POST → 201), per second',
      median: median(starts.perSecond),
      tail: Math.min(...starts.perSecond),
      tailLabel: 'min',
      target: '≥ 200/s',
      met: median(starts.perSecond) >= 200 && starts.failed === 0,
      samples: `${window}; ${starts.ok} started, ${starts.failed} failed`,
      digits: 0,
    },
    {
      figure: 'Gateway rollout start latency (ms)',
      median: median(starts.latencies),
      tail: p99(starts.latencies),
      tailLabel: 'p99',
      target: 'p99 ≤ 100 ms',
      met: p99(starts.latencies) <= 100,
      samples: `${starts.ok} starts`,
    },
    {
      figure: 'Gateway RSS under load (MiB)',
      median: median(gatewayRss.samples) / MB,
      tail: gatewayRss.peak / MB,
      tailLabel: 'max',
      target: '≤ 100 MiB',
      met: gatewayRss.peak / MB <= 100,
      samples: `${gatewayRss.samples.length} samples, every 200 ms`,
      digits: 0,
    },
  ];
}
