import { numberArg, scaleDown, scaleUp, stepUp, type TuningRule } from './rule';

const GUIDE = 'vLLM docs, "Optimization and Tuning" (docs.vllm.ai/en/latest/configuration/optimization.html)';
const PREFIX_CACHING = 'vLLM docs, "Automatic Prefix Caching" (docs.vllm.ai/en/latest/features/automatic_prefix_caching.html)';

/**
 * Hard limits: past these a change risks OOM, starves the scheduler or trades one latency for another
 * too far. Steps are per rollout; each rollout is canaried and health-gated.
 *
 * Deliberately not tuned: `kv_cache_dtype` fp8 doubles KV capacity but quantises the cache, a model-quality
 * trade-off that needs an operator's opt-in and an accuracy check, which a latency gate cannot give.
 * `tensor_parallel_size` / `pipeline_parallel_size` (also in the guide's preemption advice) change the
 * GPU count per replica, a capacity decision rather than a flag tweak.
 */
export const VLLM_LIMITS = {
  gpu_memory_utilization: { max: 0.95, step: 0.05 },
  max_num_seqs: { min: 8, max: 1024, grow: 1.5, shrink: 0.75 },
  /** The guide: 2048 for ITL, "> 8192" for throughput; 16384 is its own example of a large budget. */
  max_num_batched_tokens: { min: 2048, max: 16384, grow: 2, shrink: 0.5 },
};

export const vllmRules: TuningRule[] = [
  {
    id: 'vllm.kv_memory',
    addresses: ['kv_cache_pressure', 'preemption'],
    parameter: 'gpu_memory_utilization',
    defaultValue: 0.9,
    propose: (current) => stepUp(current, VLLM_LIMITS.gpu_memory_utilization.step, VLLM_LIMITS.gpu_memory_utilization.max),
    reason: 'More GPU memory for the KV cache means fewer preemptions and less recomputation',
    // vLLM sizes the KV cache from kv_cache_memory_bytes when it is set and then ignores
    // gpu_memory_utilization ("if specified, will ignore gpu_memory_utilization", vllm/config/cache.py);
    // the CPU backend always sets it, from VLLM_CPU_KVCACHE_SPACE (its page shows kv_cache_memory_bytes).
    noEffect: (facts) =>
      typeof facts.kv_cache_memory_bytes === 'number'
        ? `gpu_memory_utilization has no effect: the KV cache is fixed at ${facts.kv_cache_memory_bytes} bytes (kv_cache_memory_bytes; on CPU, VLLM_CPU_KVCACHE_SPACE)`
        : null,
    expected_improvement_pct: [10, 25],
    source: `${GUIDE}, section "Preemption": "Increase gpu_memory_utilization … By increasing utilization, you can provide more KV cache space."`,
  },
  {
    id: 'vllm.prefix_caching',
    addresses: ['high_ttft', 'kv_cache_pressure'],
    parameter: 'enable_prefix_caching',
    // vLLM V1 turns prefix caching on by default ("Enabled by default for V1", vllm/config/cache.py);
    // replicas that report false had it switched off.
    defaultValue: true,
    propose: (current) => (current === true ? null : true),
    reason: 'Requests that share a prompt prefix reuse its KV blocks: less prefill, lower time to first token',
    expected_improvement_pct: [5, 30],
    source: `${PREFIX_CACHING}, section "Introduction": "a new query can directly reuse the KV cache if it shares the same prefix with one of the existing queries, allowing the new query to skip the computation of the shared part"`,
  },
  {
    id: 'vllm.more_sequences',
    addresses: ['queue_backlog', 'low_batch_utilisation'],
    parameter: 'max_num_seqs',
    defaultValue: 256,
    // Only when KV memory has room: more sequences on a full cache just means more preemption.
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('kv_cache_pressure') || bottlenecks.has('preemption') || bottlenecks.has('high_itl')) return null;
      return scaleUp(current, VLLM_LIMITS.max_num_seqs.grow, VLLM_LIMITS.max_num_seqs.max);
    },
    reason: 'A larger batch admits queued requests sooner while the KV cache has room',
    expected_improvement_pct: [5, 20],
    source: `${GUIDE}, section "Preemption" (read the other way): "Decrease max_num_seqs or max_num_batched_tokens. This reduces the number of concurrent requests in a batch, thereby requiring less KV cache space" — with KV space to spare, a larger max_num_seqs runs more requests at once`,
  },
  {
    id: 'vllm.fewer_sequences',
    addresses: ['high_itl'],
    parameter: 'max_num_seqs',
    defaultValue: 256,
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('queue_backlog')) return null;
      return scaleDown(current, VLLM_LIMITS.max_num_seqs.shrink, VLLM_LIMITS.max_num_seqs.min);
    },
    reason: 'Smaller decode batches lower inter-token latency at some cost in throughput',
    expected_improvement_pct: [5, 15],
    source: `${GUIDE}, section "Preemption": "Decrease max_num_seqs … This reduces the number of concurrent requests in a batch"`,
  },
  {
    id: 'vllm.preemption_fewer_sequences',
    addresses: ['preemption'],
    parameter: 'max_num_seqs',
    defaultValue: 256,
    // The guide's first remedy is memory; once gpu_memory_utilization is at its hard limit, batch less.
    propose: (current, snapshot, bottlenecks, args) => {
      const gmu = numberArg(args, 'gpu_memory_utilization', 0.9);
      if (gmu < VLLM_LIMITS.gpu_memory_utilization.max) return null;
      return scaleDown(current, VLLM_LIMITS.max_num_seqs.shrink, VLLM_LIMITS.max_num_seqs.min);
    },
    reason: 'With GPU memory already at its limit, fewer concurrent sequences need less KV cache and stop preemptions',
    expected_improvement_pct: [5, 20],
    source: `${GUIDE}, section "Preemption": "Decrease max_num_seqs or max_num_batched_tokens. This reduces the number of concurrent requests in a batch, thereby requiring less KV cache space."`,
  },
  {
    id: 'vllm.batched_tokens_for_ttft',
    addresses: ['high_ttft'],
    parameter: 'max_num_batched_tokens',
    // vLLM V1's default for `vllm serve` on GPUs under 70 GiB and on A100 (8192 on H100-class GPUs).
    defaultValue: 2048,
    // A TTFT/ITL trade-off: only when ITL has headroom, not while KV memory is short (the guide's
    // preemption advice is to lower this budget, not raise it), and only once prefix caching, which
    // costs no ITL, is on (a replica reporting it off gets vllm.prefix_caching first).
    propose: (current, snapshot, bottlenecks, args) => {
      if (bottlenecks.has('high_itl') || bottlenecks.has('kv_cache_pressure') || bottlenecks.has('preemption')) return null;
      if (args.enable_prefix_caching === false) return null;
      return scaleUp(current, VLLM_LIMITS.max_num_batched_tokens.grow, VLLM_LIMITS.max_num_batched_tokens.max);
    },
    reason: 'A larger per-step token budget prefills more prompt tokens per step: lower time to first token, some cost in inter-token latency',
    expected_improvement_pct: [5, 20],
    source: `${GUIDE}, section "Performance Tuning with Chunked Prefill": "Higher values achieve better time to first token (TTFT) as you can process more prefill tokens in a batch."`,
  },
  {
    id: 'vllm.batched_tokens_for_itl',
    addresses: ['high_itl'],
    parameter: 'max_num_batched_tokens',
    defaultValue: 2048,
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('high_ttft')) return null;
      return scaleDown(current, VLLM_LIMITS.max_num_batched_tokens.shrink, VLLM_LIMITS.max_num_batched_tokens.min);
    },
    reason: 'A smaller per-step token budget lets fewer prefill chunks slow down the decodes: lower inter-token latency',
    expected_improvement_pct: [5, 15],
    source: `${GUIDE}, section "Performance Tuning with Chunked Prefill": "Smaller values (e.g., 2048) achieve better inter-token latency (ITL) because there are fewer prefills slowing down decodes."`,
  },
];
