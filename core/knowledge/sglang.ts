import type { EngineArgs, Snapshot } from '../../models';
import { numberArg, runningPerReplica, scaleUp, stepDown, stepUp, type TuningRule } from './rule';

const GUIDE = 'SGLang docs, "Hyperparameter Tuning" (docs.sglang.ai/advanced_features/hyperparameter_tuning.html)';
const SERVER_ARGS = 'SGLang docs, "Server Arguments" (docs.sglang.ai/advanced_features/server_arguments.html)';

/**
 * Hard limits for SGLang (`python -m sglang.launch_server`, flags in snake_case).
 * - mem_fraction_static covers weights + KV pool; the guide wants 5–8 GB left for activations and CUDA
 *   graph buffers. On an 80 GB GPU 0.93 leaves 5.6 GB, the low end of that rule of thumb.
 * - schedule_conservativeness: the guide's own values, 0.3 (eager) and 1.3 (careful), bound the range,
 *   with one step of headroom above 1.3.
 * - chunked_prefill_size: SGLang's largest default (B200/MI300) is 16384. It is only ever raised (for TTFT):
 *   the guide gives no latency reason to shrink it, and for ITL mixing prefill into decode batches is the
 *   documented knob (sglang.mixed_chunk).
 */
/** SGLang's heuristic for tp_size 1 (0.79–0.87 for larger TP; recent versions derive it from GPU memory). */
export const SGLANG_DEFAULT_MEM_FRACTION = 0.88;

/** SGLang's chunked_prefill_size on 35–160 GB GPUs (A100, H100, H200); 2048 below, 16384 above. -1 disables chunking. */
export const SGLANG_DEFAULT_CHUNK = 8192;

export const SGLANG_LIMITS = {
  mem_fraction_static: { max: 0.93, step: 0.05 },
  schedule_conservativeness: { min: 0.3, max: 1.5, step: 0.3 },
  chunked_prefill_size: { max: 16384, grow: 2 },
  max_running_requests: { min: 16, max: 4096, grow: 1.5, shrink: 0.75 },
  /** An explicit max_running_requests "binds" when replicas run at least this share of it. */
  binding_share: 0.9,
  /** Prefix-cache hit rate from which reordering the queue by longest prefix match pays. */
  lpm_min_hit_rate: 0.2,
};

/** True when an explicit max_running_requests is what holds the batch size down. */
function runningCapBinds(args: EngineArgs, snapshot: Snapshot): boolean {
  const cap = args.max_running_requests;
  const running = runningPerReplica(snapshot);
  return typeof cap === 'number' && running !== null && running >= SGLANG_LIMITS.binding_share * cap;
}

export const sglangRules: TuningRule[] = [
  {
    id: 'sglang.kv_memory',
    addresses: ['kv_cache_pressure', 'preemption'],
    parameter: 'mem_fraction_static',
    defaultValue: SGLANG_DEFAULT_MEM_FRACTION,
    propose: (current) => stepUp(current, SGLANG_LIMITS.mem_fraction_static.step, SGLANG_LIMITS.mem_fraction_static.max),
    reason: 'A larger static memory fraction grows the KV cache pool: more requests fit, fewer retractions',
    expected_improvement_pct: [10, 25],
    source: `${GUIDE}, section "Tune --mem-fraction-static to increase KV cache pool capacity": "To support higher concurrency, you should maximize the KV cache pool capacity by setting --mem-fraction-static as high as possible while still reserving enough memory for activations and CUDA graph buffers."`,
  },
  {
    id: 'sglang.more_conservative',
    addresses: ['preemption'],
    parameter: 'schedule_conservativeness',
    defaultValue: 1.0,
    // Memory first: only once mem_fraction_static is at its limit, admit new requests more carefully.
    propose: (current, snapshot, bottlenecks, args) => {
      if (numberArg(args, 'mem_fraction_static', SGLANG_DEFAULT_MEM_FRACTION) < SGLANG_LIMITS.mem_fraction_static.max) return null;
      return stepUp(current, SGLANG_LIMITS.schedule_conservativeness.step, SGLANG_LIMITS.schedule_conservativeness.max);
    },
    reason: 'Retractions on a full KV pool: a more conservative scheduler admits fewer requests it would later retract',
    expected_improvement_pct: [5, 15],
    source: `${GUIDE}, section "Achieve a high token usage": "if you see token usage very high and you frequently see warnings like KV cache pool is full. Retract requests. … you can increase --schedule-conservativeness to a value like 1.3"`,
  },
  {
    id: 'sglang.less_conservative',
    addresses: ['low_batch_utilisation'],
    parameter: 'schedule_conservativeness',
    defaultValue: 1.0,
    // Not while requests are being retracted, and not when an explicit max_running_requests is the cap.
    propose: (current, snapshot, bottlenecks, args) => {
      if (bottlenecks.has('preemption') || runningCapBinds(args, snapshot)) return null;
      return stepDown(current, SGLANG_LIMITS.schedule_conservativeness.step, SGLANG_LIMITS.schedule_conservativeness.min);
    },
    reason: 'Requests queue while the KV pool has room: a less conservative scheduler admits them',
    expected_improvement_pct: [10, 30],
    source: `${GUIDE}, section "Achieve a high token usage": "If you frequently see token usage < 0.9 and #queue-req > 0, it means the server is too conservative about taking in new requests. You can decrease --schedule-conservativeness to a value like 0.3."`,
  },
  {
    id: 'sglang.more_running_requests',
    addresses: ['low_batch_utilisation', 'queue_backlog'],
    parameter: 'max_running_requests',
    // Derived at startup from the KV pool size; only an explicit, binding cap is raised.
    defaultValue: null,
    propose: (current, snapshot, bottlenecks, args) => {
      if (bottlenecks.has('kv_cache_pressure') || bottlenecks.has('preemption') || bottlenecks.has('high_itl')) return null;
      if (!runningCapBinds(args, snapshot)) return null;
      return scaleUp(current, SGLANG_LIMITS.max_running_requests.grow, SGLANG_LIMITS.max_running_requests.max);
    },
    reason: 'Replicas run at their max_running_requests cap with requests queued and KV room to spare: raise the cap',
    expected_improvement_pct: [5, 20],
    source: `${SERVER_ARGS}, "Memory and scheduling": "--max-running-requests: The maximum number of running requests."; ${GUIDE}, section "Achieve a high token usage": "token usage > 0.9 means good utilization"`,
  },
  {
    id: 'sglang.radix_cache',
    addresses: ['high_ttft', 'kv_cache_pressure'],
    parameter: 'disable_radix_cache',
    defaultValue: false,
    propose: (current) => (current === true ? false : null),
    reason: 'RadixAttention reuses the KV cache of shared prompt prefixes: less prefill, lower time to first token',
    expected_improvement_pct: [5, 30],
    source: `${SERVER_ARGS}, "Optimization/debug options": "--disable-radix-cache: Disable RadixAttention for prefix caching." (default False)`,
  },
  {
    id: 'sglang.prefix_aware_schedule',
    addresses: ['high_ttft', 'queue_backlog'],
    parameter: 'schedule_policy',
    defaultValue: 'fcfs',
    // Reordering needs a queue to reorder and prefixes worth matching.
    propose: (current, snapshot, bottlenecks, args) => {
      if (current !== 'fcfs' || args.disable_radix_cache === true) return null;
      if (!bottlenecks.has('queue_backlog') || !bottlenecks.has('high_ttft')) return null;
      const hit = snapshot.prefix_cache_hit_rate;
      return hit !== null && hit >= SGLANG_LIMITS.lpm_min_hit_rate ? 'lpm' : null;
    },
    reason: 'Queued requests share prefixes: serving the longest prefix match first raises cache hits and cuts prefill',
    expected_improvement_pct: [3, 15],
    source: `${GUIDE}, section "Try other options": "If the workload has many shared prefixes, try --schedule-policy lpm. … It reorders requests to encourage more cache hits but introduces more scheduling overhead."`,
  },
  {
    id: 'sglang.mixed_chunk',
    addresses: ['high_itl'],
    parameter: 'enable_mixed_chunk',
    defaultValue: false,
    // Needs chunked prefill (chunked_prefill_size > 0; -1 disables it).
    propose: (current, snapshot, bottlenecks, args) => {
      if (current === true || numberArg(args, 'chunked_prefill_size', SGLANG_DEFAULT_CHUNK) <= 0) return null;
      return true;
    },
    reason: 'Prefill chunks ride along a decode batch instead of pausing it: fewer decode stalls, lower inter-token latency',
    expected_improvement_pct: [5, 15],
    source: `${SERVER_ARGS}, "Optimization/debug options": "--enable-mixed-chunk: Enabling mixing prefill and decode in a batch when using chunked prefill." (default False)`,
  },
  {
    id: 'sglang.bigger_prefill_chunks',
    addresses: ['high_ttft'],
    parameter: 'chunked_prefill_size',
    defaultValue: SGLANG_DEFAULT_CHUNK,
    // A larger chunk needs more activation memory outside mem_fraction_static: not once that fraction was
    // raised above SGLang's default (the pair could no longer start: OOM while capturing CUDA graphs).
    propose: (current, snapshot, bottlenecks, args) => {
      if (bottlenecks.has('high_itl') || bottlenecks.has('kv_cache_pressure') || bottlenecks.has('preemption')) return null;
      if (numberArg(args, 'mem_fraction_static', SGLANG_DEFAULT_MEM_FRACTION) > SGLANG_DEFAULT_MEM_FRACTION) return null;
      return scaleUp(current, SGLANG_LIMITS.chunked_prefill_size.grow, SGLANG_LIMITS.chunked_prefill_size.max);
    },
    reason: 'Larger prefill chunks finish long prompts in fewer steps: lower time to first token, longer decode stalls',
    expected_improvement_pct: [3, 15],
    source: `${GUIDE}, section "Avoid out-of-memory errors by tuning --chunked-prefill-size, …": reducing --chunked-prefill-size "saves memory but slows down the prefill speed for long prompts" — so, with memory to spare, a larger chunk speeds prefill up`,
  },
];
