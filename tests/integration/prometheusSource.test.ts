/**
 * Prometheus as a metric source, against a real Prometheus (Debian's `prometheus` package) that
 * scrapes simulated deployments every second. With the simulators' clock frozen, what Prometheus
 * stored is exactly what a scrape returns now, so the two sources must agree to the last bit; with
 * a running clock, snapshots over two Prometheus readings must agree with scraped ones.
 */
import { performance } from 'node:perf_hooks';
import net from 'node:net';
import axios from 'axios';
import { metricSourceFor, prometheusSource, PrometheusSourceError, scrapeSource, type MetricSource } from '../../activities/metricSource';
import { COUNTER_KEYS, GAUGE_KEYS, HISTOGRAM_KEYS, snapshotBetween, type EngineSample } from '../../metrics';
import type { EngineType } from '../../models';
import { createFleetSimulator, type FleetSimulator, type RunningDeployment } from '../../simulator/simulatedFleet';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus';

jest.setTimeout(120_000);

const http = axios.create({ timeout: 10_000 });
let frozenAt = 0;
let frozen: FleetSimulator; // clock moved by hand
let live: FleetSimulator; // real clock
let prom: RunningPrometheus;
let scrape: MetricSource;
let source: MetricSource;

const dep = (fleet: FleetSimulator, i: number): RunningDeployment => fleet.deployments[i];

beforeAll(async () => {
  frozenAt = performance.now();
  frozen = await createFleetSimulator({
    now: () => frozenAt,
    deployments: [
      { engine: 'vllm', port: 0, replicas: 3 },
      { engine: 'tgi', port: 0, replicas: 2 },
      { engine: 'sglang', port: 0, replicas: 2 },
      { engine: 'sglang', port: 0, replicas: 1 }, // for replicaLabel "instance": one replica per host:port
    ],
  });
  live = await createFleetSimulator({
    deployments: [
      { engine: 'vllm', port: 0, replicas: 3 },
      { engine: 'vllm', port: 0, replicas: 2 }, // gets a malformed_metrics fault
    ],
  });
  const addresses = [...frozen.deployments, ...live.deployments].flatMap((d) => d.replicaAddresses);
  prom = await startPrometheus({ targets: addresses.map((address) => ({ address })), scrapeIntervalSeconds: 1 });
  scrape = scrapeSource({ http, concurrency: 8 });
  source = metricSourceFor({ type: 'prometheus', url: prom.url }, { http, concurrency: 8 });
  // 90 simulated seconds of traffic, then wait for a scrape of the frozen state.
  frozenAt += 90_000;
  await prom.waitForScrapes({ sinceMs: Date.now() });
});

afterAll(async () => {
  await prom?.stop();
  await frozen?.close();
  await live?.close();
});

function expectClose(actual: number | undefined, expected: number | undefined, what: string, rel = 1e-12): void {
  expect([what, actual !== undefined]).toEqual([what, expected !== undefined]);
  if (actual === undefined || expected === undefined) return;
  const tol = rel * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${what}: ${actual} vs ${expected} (tolerance ${tol})`);
}

function expectSameSample(p: EngineSample, s: EngineSample): void {
  expect(p.replicas).toBe(s.replicas);
  expect(Object.keys(p.counters).sort()).toEqual(Object.keys(s.counters).sort());
  expect(Object.keys(p.gauges).sort()).toEqual(Object.keys(s.gauges).sort());
  expect(Object.keys(p.histograms).sort()).toEqual(Object.keys(s.histograms).sort());
  for (const k of COUNTER_KEYS) expectClose(p.counters[k], s.counters[k], `counter ${k}`);
  for (const k of GAUGE_KEYS) expectClose(p.gauges[k], s.gauges[k], `gauge ${k}`);
  for (const k of HISTOGRAM_KEYS) {
    const a = p.histograms[k];
    const b = s.histograms[k];
    if (!a || !b) continue;
    expect(a.bounds).toEqual(b.bounds);
    a.counts.forEach((c, i) => expectClose(c, b.counts[i], `${k} bucket le=${b.bounds[i]}`));
    expectClose(a.count, b.count, `${k} count`);
    expectClose(a.sum ?? undefined, b.sum ?? undefined, `${k} sum`);
  }
  // at_ms is when Prometheus scraped: within the last few scrape intervals.
  expect(p.at_ms).toBeLessThanOrEqual(Date.now());
  expect(p.at_ms).toBeGreaterThan(Date.now() - 10_000);
}

describe('same numbers as scraping (frozen simulator clock)', () => {
  test.each<[EngineType, number]>([
    ['vllm', 0],
    ['tgi', 1],
    ['sglang', 2],
  ])('%s deployment', async (engine, i) => {
    const replicas = dep(frozen, i).replicaAddresses;
    const [p, s] = await Promise.all([source.sample(engine, replicas), scrape.sample(engine, replicas)]);
    expect(source.kind).toBe('prometheus');
    expect(s.counters.requests_total).toBeGreaterThan(0);
    expect(Object.keys(s.histograms).length).toBeGreaterThanOrEqual(2);
    expectSameSample(p, s);
    // and a subset of replicas is that subset, not the deployment
    const [p1, s1] = await Promise.all([source.sample(engine, replicas.slice(1)), scrape.sample(engine, replicas.slice(1))]);
    expect(p1.replicas).toBe(replicas.length - 1);
    expectSameSample(p1, s1);
  });

  test('replicaLabel "instance" (host:port) and a job selector, through a POST query', async () => {
    const replicas = dep(frozen, 3).replicaAddresses;
    const byInstance = prometheusSource({ url: `${prom.url}/`, http, replicaLabel: 'instance', jobSelector: 'job="servetune"', maxGetQueryLength: 10 });
    expectSameSample(await byInstance.sample('sglang', replicas), await scrape.sample('sglang', replicas));
  });

  test('replicas sharing a host:port cannot be told apart by "instance"', async () => {
    const replicas = dep(frozen, 0).replicaAddresses;
    const byInstance = prometheusSource({ url: prom.url, http, replicaLabel: 'instance' });
    const err = await byInstance.sample('vllm', replicas).catch((e) => e);
    expect(err).toBeInstanceOf(PrometheusSourceError);
    expect(err.kind).toBe('ambiguous_replicas');
    expect(err.replicas.sort()).toEqual([...replicas].sort());
  });
});

describe('snapshots over two Prometheus readings (running clock)', () => {
  test('rates and quantiles agree with scraping over the same window', async () => {
    const replicas = dep(live, 0).replicaAddresses;
    const read = () => Promise.all([source.sample('vllm', replicas), scrape.sample('vllm', replicas)]);
    const [p1, s1] = await read();
    await new Promise((r) => setTimeout(r, 8000));
    const [p2, s2] = await read();
    const viaProm = snapshotBetween(p1, p2);
    const viaScrape = snapshotBetween(s1, s2);
    console.log(`window ${viaProm.window_seconds}s: prometheus ${JSON.stringify(viaProm)}\nscrape ${JSON.stringify(viaScrape)}`);

    // Prometheus' scrapes are up to one interval (1 s) off the query times on each side.
    expect(viaProm.window_seconds).toBeGreaterThanOrEqual(6);
    expect(viaProm.window_seconds).toBeLessThanOrEqual(10);
    expect(viaProm.replicas).toBe(3);
    for (const k of ['request_rate', 'generation_tokens_per_second', 'preemptions_per_second'] as const) {
      const a = viaProm[k] as number;
      const b = viaScrape[k] as number;
      expect(a).toBeGreaterThan(0);
      expect(Math.abs(a - b) / b).toBeLessThan(0.3);
    }
    expect(viaScrape.request_rate!).toBeGreaterThan(8); // 4 rps per replica offered
    expect(viaScrape.request_rate!).toBeLessThan(16);
    // Quantiles of a steady state do not depend on the exact window.
    for (const k of ['ttft_p50_ms', 'ttft_p95_ms', 'ttft_p99_ms', 'itl_p95_ms', 'e2e_p95_ms'] as const) {
      expect(Math.abs((viaProm[k] as number) - (viaScrape[k] as number)) / (viaScrape[k] as number)).toBeLessThan(0.05);
    }
    expect(viaProm.ttft_p50_ms!).toBeLessThanOrEqual(viaProm.ttft_p95_ms!);
    expect(viaProm.ttft_p95_ms!).toBeLessThanOrEqual(viaProm.ttft_p99_ms!);
    expect(viaProm.error_rate!).toBeGreaterThan(0);
    expect(viaProm.error_rate!).toBeLessThan(0.05);
    expect(Math.abs(viaProm.error_rate! - viaScrape.error_rate!)).toBeLessThan(0.002);
    expect(viaProm.kv_cache_usage).toBeCloseTo(viaScrape.kv_cache_usage!, 6);
  });
});

describe('errors', () => {
  const expectError = async (p: Promise<unknown>, kind: string): Promise<PrometheusSourceError> => {
    const err = await p.then(
      () => {
        throw new Error(`expected a ${kind} error`);
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PrometheusSourceError);
    expect((err as PrometheusSourceError).kind).toBe(kind);
    return err as PrometheusSourceError;
  };

  test('a replica Prometheus does not scrape is named, not read as zeros', async () => {
    const known = dep(frozen, 0).replicaAddresses[0];
    const unknown = 'http://127.0.0.1:1/replicas/9';
    const err = await expectError(source.sample('vllm', [known, unknown]), 'missing_replicas');
    expect(err.replicas).toEqual([unknown]);
    expect(err.message).toContain(unknown);
    expect(err.message).toContain('1 of 2 replica(s)');
    expect(err.message).not.toContain(`${known}:`);
    expect(err.retryable).toBe(true);
  });

  test('a replica of another engine is named', async () => {
    const replicas = dep(frozen, 0).replicaAddresses;
    const err = await expectError(source.sample('tgi', replicas), 'missing_replicas');
    expect(err.replicas).toEqual(replicas);
    expect(err.message).toContain('not a tgi replica');
  });

  test('a job selector that matches nothing names every replica', async () => {
    const replicas = dep(frozen, 1).replicaAddresses;
    const other = prometheusSource({ url: prom.url, http, jobSelector: 'job="not-this-one"' });
    expect((await expectError(other.sample('tgi', replicas), 'missing_replicas')).replicas).toEqual(replicas);
  });

  test('a replica whose last scrape failed (up=0) is named', async () => {
    const replicas = dep(live, 1).replicaAddresses;
    expect((await source.sample('vllm', replicas)).replicas).toBe(2);
    expect(dep(live, 1).simulator.addFault({ kind: 'malformed_metrics', replicas: [replicas[1]] })).toEqual({ ok: true });
    const since = Date.now();
    let err: PrometheusSourceError | undefined;
    while (!err && Date.now() - since < 15_000) {
      err = await source.sample('vllm', replicas).then(
        () => undefined,
        (e: PrometheusSourceError) => e,
      );
      if (!err) await new Promise((r) => setTimeout(r, 250));
    }
    expect(err).toBeInstanceOf(PrometheusSourceError);
    expect(err!.kind).toBe('missing_replicas');
    expect(err!.replicas).toEqual([replicas[1]]);
    expect(err!.message).toContain('up=0');
  });

  test('a query Prometheus rejects says so, with its error type and size but not its text', async () => {
    const bad = prometheusSource({ url: prom.url, http, jobSelector: 'job=~"("' });
    const err = await expectError(bad.sample('vllm', dep(frozen, 0).replicaAddresses), 'query');
    expect(err.message).toMatch(/rejected the query \(HTTP 400 bad_data, \d+ bytes\)/);
    expect(err.message).not.toMatch(/parse error/);
    expect(err.retryable).toBe(false);
  });

  test('a URL that is not Prometheus', async () => {
    const notProm = prometheusSource({ url: dep(frozen, 0).url, http });
    const err = await expectError(notProm.sample('vllm', dep(frozen, 0).replicaAddresses), 'bad_answer');
    expect(err.message).toMatch(/did not answer as the query API \(HTTP 404, \d+ bytes\)$/);
  });

  test('nothing listening', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const down = prometheusSource({ url: `http://127.0.0.1:${port}`, http });
    const err = await expectError(down.sample('vllm', dep(frozen, 0).replicaAddresses), 'unreachable');
    expect(err.message).toContain(`Prometheus at http://127.0.0.1:${port} is unreachable: ECONNREFUSED`);
  });

  test('Prometheus stopped mid-run', async () => {
    await prom.stop();
    const err = await expectError(source.sample('vllm', dep(frozen, 0).replicaAddresses), 'unreachable');
    expect(err.message).toContain('is unreachable');
    expect(err.retryable).toBe(true);
  });
});
