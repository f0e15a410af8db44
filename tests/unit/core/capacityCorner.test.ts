import { capacityCorner } from '../../../core/capacityCorner';
import type { EngineArgs, EngineType } from '../../../models';

describe('capacityCorner: the most capacity the bounds allow', () => {
  test.each<[string, EngineType, EngineArgs, Array<[string, unknown]>]>([
    ['SGLang defaults: the largest static memory fraction, mixed chunks', 'sglang', { mem_fraction_static: 0.88, schedule_conservativeness: 1 }, [['mem_fraction_static', 0.93], ['enable_mixed_chunk', true]]],
    ['SGLang with an explicit running-requests cap: raised to its bound', 'sglang', { mem_fraction_static: 0.93, enable_mixed_chunk: true, max_running_requests: 64 }, [['max_running_requests', 4096]]],
    ['SGLang already at the corner: nothing to move', 'sglang', { mem_fraction_static: 0.93, enable_mixed_chunk: true, max_running_requests: null }, []],
    ['vLLM defaults: memory, prefix caching off → on, the largest token budget', 'vllm', { gpu_memory_utilization: 0.9, enable_prefix_caching: false, max_num_batched_tokens: 2048 }, [['gpu_memory_utilization', 0.95], ['max_num_batched_tokens', 16384], ['enable_prefix_caching', true]]],
    ['vLLM with prefix caching unset: on by default, not moved', 'vllm', { gpu_memory_utilization: 0.95, max_num_batched_tokens: 16384 }, []],
    ['a value beyond the bound is never lowered', 'vllm', { gpu_memory_utilization: 0.97, enable_prefix_caching: true, max_num_batched_tokens: 16384 }, []],
    ['TGI: memory fraction unset means its default 1.0, the bound', 'tgi', { max_batch_prefill_tokens: 4096 }, []],
    ['TGI: a lowered memory fraction goes back up', 'tgi', { cuda_memory_fraction: 0.8 }, [['cuda_memory_fraction', 1]]],
  ])('%s', (_name, engine, args, expected) => {
    const corner = capacityCorner(engine, args, undefined, [])!;
    expect(Object.fromEntries(corner.changes.map((c) => [c.flag, c.to]))).toEqual(Object.fromEntries(expected));
    for (const c of corner.changes) expect(c.from).toBe(args[c.flag] ?? null);
    expect(corner.args).toEqual({ ...args, ...Object.fromEntries(expected) });
  });

  test('a flag that does nothing where the engine runs is left alone (vLLM on CPU: fixed KV cache bytes)', () => {
    const corner = capacityCorner('vllm', { gpu_memory_utilization: 0.9, enable_prefix_caching: true, max_num_batched_tokens: 16384 }, { kv_cache_memory_bytes: 4e9 }, [])!;
    expect(corner.changes).toEqual([]);
  });

  test('a corner the run (or an earlier one) ruled out is not proposed', () => {
    const args = { mem_fraction_static: 0.88 };
    const constraints = [{ engine_args: { mem_fraction_static: 0.93, enable_mixed_chunk: true }, why: 'reverted' }];
    expect(capacityCorner('sglang', args, undefined, constraints)).toBeNull();
    expect(capacityCorner('sglang', args, undefined, [])).not.toBeNull();
  });
});
