import type { TuningRule } from './rule';

const TUNING_GUIDE = 'vLLM docs, "Optimization and Tuning" (docs.vllm.ai/en/latest/configuration/optimization.html)';
const PREFIX_CACHING = 'vLLM docs, "Automatic Prefix Caching" (docs.vllm.ai/en/latest/features/automatic_prefix_caching.html)';

/** Hard limits: past these a change risks OOM or starves the scheduler. */
export const VLLM_LIMITS = {
  gpu_memory_utilization: { max: 0.95, step: 0.05 },
  max_num_seqs: { min: 8, max: 1024 },
};

export const vllmRules: TuningRule[] = [
  {
    id: 'vllm.kv_memory',
    addresses: ['kv_cache_pressure', 'preemption'],
    parameter: 'gpu_memory_utilization',
    defaultValue: 0.9,
    propose: (current) => {
      const { max, step } = VLLM_LIMITS.gpu_memory_utilization;
      const next = Math.min(max, Math.round((Number(current) + step) * 100) / 100);
      return next > Number(current) ? next : null;
    },
    reason: 'More GPU memory for the KV cache means fewer preemptions and less recomputation',
    expected_improvement_pct: [10, 25],
    source: `${TUNING_GUIDE}: "Preemption" — increase gpu_memory_utilization`,
  },
  {
    id: 'vllm.prefix_caching',
    addresses: ['high_ttft', 'kv_cache_pressure'],
    parameter: 'enable_prefix_caching',
    defaultValue: false,
    propose: (current) => (current === true ? null : true),
    reason: 'Requests that share a prompt prefix reuse its KV blocks: less prefill, lower time to first token',
    expected_improvement_pct: [5, 30],
    source: PREFIX_CACHING,
  },
  {
    id: 'vllm.more_sequences',
    addresses: ['queue_backlog'],
    parameter: 'max_num_seqs',
    defaultValue: 256,
    // Only when KV memory has room: more sequences on a full cache just means more preemption.
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('kv_cache_pressure') || bottlenecks.has('high_itl')) return null;
      const next = Math.min(VLLM_LIMITS.max_num_seqs.max, Math.round(Number(current) * 1.5));
      return next > Number(current) ? next : null;
    },
    reason: 'A larger batch admits queued requests sooner while the KV cache has room',
    expected_improvement_pct: [5, 20],
    source: `${TUNING_GUIDE}: "Performance Tuning with Chunked Prefill" — max_num_seqs and max_num_batched_tokens`,
  },
  {
    id: 'vllm.fewer_sequences',
    addresses: ['high_itl'],
    parameter: 'max_num_seqs',
    defaultValue: 256,
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('queue_backlog')) return null;
      const next = Math.max(VLLM_LIMITS.max_num_seqs.min, Math.round(Number(current) * 0.75));
      return next < Number(current) ? next : null;
    },
    reason: 'Smaller decode batches lower inter-token latency at some cost in throughput',
    expected_improvement_pct: [5, 15],
    source: `${TUNING_GUIDE}: "Preemption" — reduce max_num_seqs or max_num_batched_tokens`,
  },
];
