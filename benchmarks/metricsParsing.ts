/**
 * Metrics: parser throughput over the real exposition pages in tests/fixtures/metrics, and one
 * monitoring tick over 1,000 simulated replicas — the activity the workflow runs for each health
 * sample (`measureHealth`, run here in Temporal's MockActivityEnvironment so it heartbeats as in a
 * worker), with the activities' own bounded scrape concurrency. The simulator runs in a child
 * process, so the tick's time and memory are the scraper's, not the pages being rendered.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, defaultActivityDeps, type RolloutActivities, type StageMeasurement } from '../activities';
import { fleetDigest } from '../activities/resolveFleet';
import { DEFAULT_SLO } from '../core/healthScore';
import type { EngineSample } from '../metrics';
import { parsePrometheusText } from '../metrics/prometheusText';
import { PROJECT_ROOT } from '../scripts/temporalBinaries';
import type { BenchContext } from './context';
import { gc, median, MB, percentile, type Row } from './stats';

/** Replicas per simulated deployment when a benchmark needs hundreds or thousands. */
export const SIM_DEPLOYMENT_SIZE = 100;

export const FIXTURES_DIR = path.resolve(PROJECT_ROOT, 'tests', 'fixtures', 'metrics');

function promFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return promFiles(full);
    return name.endsWith('.prom') ? [full] : [];
  });
}

export async function metricsParsing(ctx: BenchContext): Promise<Row[]> {
  const pages = promFiles(FIXTURES_DIR).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    try {
      parsePrometheusText(text);
      return [{ file, text, bytes: Buffer.byteLength(text) }];
    } catch {
      // A fragment the parser (rightly) rejects is not exposition text to measure throughput on.
      ctx.log(`parsing: skipping ${path.relative(FIXTURES_DIR, file)} (rejected by the parser)`);
      return [];
    }
  });
  if (pages.length === 0) throw new Error(`no parsable .prom pages under ${FIXTURES_DIR}`);
  const totalBytes = pages.reduce((a, p) => a + p.bytes, 0);

  // Warm up the JIT, then rounds of ~250 ms each, every round parsing the whole set again and again.
  for (let i = 0; i < 20; i++) for (const p of pages) parsePrometheusText(p.text);
  const rounds = ctx.quick ? 8 : 20;
  const rates: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    let bytes = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < 250) {
      for (const p of pages) {
        sink += parsePrometheusText(p.text).length;
        bytes += p.bytes;
      }
      elapsed = performance.now() - t0;
    }
    rates.push(bytes / 1e6 / (elapsed / 1000));
  }
  if (sink === 0) throw new Error('parser returned nothing');
  ctx.log(`parsing: ${pages.length} pages, ${(totalBytes / 1024).toFixed(0)} KiB per pass, median ${median(rates).toFixed(1)} MB/s`);
  return [
    {
      figure: 'Metrics parsing, fixture pages repeated (MB/s)',
      median: median(rates),
      tail: percentile(rates, 1),
      tailLabel: 'p1',
      target: '≥ 50 MB/s',
      met: median(rates) >= 50,
      samples: `${rounds} rounds × 250 ms, ${pages.length} pages`,
    },
  ];
}

export async function monitoringTick(ctx: BenchContext): Promise<Row[]> {
  const replicas = 1000;
  // 10 deployments of 100: the simulator spends O(replicas of the deployment) per scrape, which at
  // 1,000 in one deployment would make it, not the scraper, the slowest part (see BENCHMARKS.md).
  const fleet = await ctx.embedded.spawnFleet(Array.from({ length: replicas / SIM_DEPLOYMENT_SIZE }, () => ({ engine: 'vllm' as const, port: 0, replicas: SIM_DEPLOYMENT_SIZE })));
  const addresses = fleet.deployments.flatMap((d) => d.replicaAddresses);
  const deps = defaultActivityDeps();
  const activities = createActivities(deps);
  const env = new MockActivityEnvironment();
  // One monitoring tick of a 100% stage: every replica is canary, so one scrape of all 1,000.
  type TickInput = Parameters<RolloutActivities['measureStage']>[0];
  // The replicas are named, as a request may name them; the tick resolves them from this reference.
  const fleetRef = { instance_id: 'bench-tick', replicas: addresses, count: addresses.length, digest: fleetDigest(addresses) };
  const all = { from: 0, to: addresses.length };
  const first = (await env.run(activities.sampleFleet, { engine: 'vllm' as const, fleet: fleetRef, range: all })) as EngineSample;
  let input: TickInput = {
    engine: 'vllm',
    slo: DEFAULT_SLO,
    fleet: fleetRef,
    canary: all,
    baseline: null,
    windowStart: first,
    previous: { canary: first, baseline: null },
    series: { canary: {}, baseline: {} },
  };
  const tick = async (): Promise<StageMeasurement> => {
    const m = (await env.run(activities.measureStage, input)) as StageMeasurement;
    input = { ...input, previous: m.samples, series: m.series };
    return m;
  };

  const times: number[] = [];
  const cpu: number[] = [];
  const held: number[] = [];
  const peaks: number[] = [];
  const rss: number[] = [];
  try {
    await tick(); // warm-up: connections, JIT
    const ticks = ctx.quick ? 2 : 5;
    for (let i = 0; i < ticks; i++) {
      gc();
      const before = process.memoryUsage();
      let peak = before.heapUsed + before.external;
      const watch = setInterval(() => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.external);
      }, 5);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const result = await tick();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      clearInterval(watch);
      if (result.health.score === null) throw new Error('tick produced no health score');
      // Held: heap still reachable after the tick, with its result kept (the workflow gets it). Response
      // buffers (external memory) are freed once V8 lets go of them; RSS stays flat from tick to tick.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
      const after = process.memoryUsage();
      held.push((after.heapUsed - before.heapUsed) / MB);
      rss.push(after.rss / MB);
      peaks.push((peak - (before.heapUsed + before.external)) / MB);
    }
  } finally {
    await fleet.stop();
  }
  ctx.log(
    `tick: ${replicas} replicas, concurrency ${deps.concurrency}; median ${median(times).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU of this process; ` +
      `held ${median(held).toFixed(2)} MiB, transient peak ${median(peaks).toFixed(1)} MiB; RSS after each tick ${rss.map((r) => r.toFixed(0)).join(', ')} MiB`,
  );
  return [
    {
      figure: `Monitoring tick, ${replicas} replicas, concurrency ${deps.concurrency} (ms)`,
      median: median(times),
      tail: Math.max(...times),
      tailLabel: 'max',
      target: '≤ 2,000 ms',
      met: Math.max(...times) <= 2000,
      samples: `${times.length} ticks; scraper CPU ${median(cpu).toFixed(0)} ms per tick`,
      digits: 0,
    },
    {
      figure: 'Memory held after a tick (MiB of heap)',
      median: median(held),
      tail: Math.max(...held),
      tailLabel: 'max',
      target: '≤ 5 MiB ("a few MB")',
      met: Math.max(...held) <= 5,
      samples: `${held.length} ticks; RSS after ticks ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MiB`,
      digits: 2,
    },
    {
      figure: 'Transient heap during a tick (MiB above start)',
      median: median(peaks),
      tail: Math.max(...peaks),
      tailLabel: 'max',
      target: '',
      met: null,
      samples: `${peaks.length} ticks, sampled every 5 ms`,
    },
  ];
}
