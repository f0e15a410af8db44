import type { EngineArgs, Snapshot } from '../../models';
import { runningPerReplica, scaleDown, scaleUp, stepUp, type TuningRule } from './rule';

const LAUNCHER = 'TGI docs, "Text-generation-launcher arguments" (huggingface.co/docs/text-generation-inference/reference/launcher)';

/**
 * Hard limits for TGI (`text-generation-launcher`, flags in snake_case).
 *
 * What TGI's metrics can show (metrics/engines/tgiAdapter.ts): queue size, batch size, a per-request
 * time per output token (as ITL), request duration and failures. It has no TTFT histogram, no KV-usage
 * gauge and no preemption counter, so these rules trigger on queue_backlog, high_itl and errors.
 *
 * `max_batch_total_tokens` and `max_batch_prefill_tokens` have no fixed default: TGI infers the first
 * from the memory left after loading the model, and sets the second to max_input_tokens + 50. The rules
 * move them only when a replica reports an explicit value. `cuda_memory_fraction` defaults to 1.0, its
 * own maximum, so its rule only undoes an operator's lower setting. `waiting_served_ratio` is left alone:
 * raising it buys ITL with queueing before the first token, a cost TGI's metrics cannot show (the
 * simulator's 1.2 triples the queue), and lowering it below 0.3 buys little over a lower max_waiting_tokens.
 */
export const TGI_LIMITS = {
  max_concurrent_requests: { max: 1024, grow: 1.5 },
  /** Concurrent (running + queued) requests per replica at this share of the limit: the limit is what refuses. */
  concurrency_binding_share: 0.9,
  max_waiting_tokens: { min: 5, max: 100, grow: 1.5, shrink: 0.5 },
  /**
   * Rules that trade queueing for ITL fire only when the queue is about empty (at most this many waiting
   * per replica), well below the backlog threshold (1): a dead band, so that a fix for a queue that costs
   * some ITL is not undone by the next rollout. TGI reports no TTFT, so that cost would go unseen.
   */
  idle_waiting_per_replica: 0.1,
  /** Bounded by TGI's own checks too: max_input_tokens ≤ max_batch_prefill_tokens ≤ max_batch_total_tokens. */
  max_batch_prefill_tokens: { min: 1024, max: 32768, grow: 2, shrink: 0.5 },
  /** A shrink squeezed by a floor to less than 10% is not worth a rollout. */
  min_meaningful_shrink: 0.9,
  max_batch_total_tokens: { max: 1_048_576, grow: 1.25 },
  cuda_memory_fraction: { max: 1.0, step: 0.05 },
};

function queueIdle(snapshot: Snapshot): boolean {
  return snapshot.requests_waiting !== null && snapshot.replicas > 0 && snapshot.requests_waiting / snapshot.replicas <= TGI_LIMITS.idle_waiting_per_replica;
}

function concurrentPerReplica(snapshot: Snapshot): number | null {
  const running = runningPerReplica(snapshot);
  if (running === null || snapshot.requests_waiting === null) return null;
  return running + snapshot.requests_waiting / snapshot.replicas;
}

const explicit = (args: EngineArgs, name: string) => typeof args[name] === 'number';

export const tgiRules: TuningRule[] = [
  {
    id: 'tgi.more_concurrent_requests',
    addresses: ['errors'],
    parameter: 'max_concurrent_requests',
    defaultValue: 128,
    // Only when the replicas are at the limit (so the errors are its "overloaded" refusals) and decode
    // still has headroom; otherwise refusing is the backpressure the launcher doc recommends.
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('high_itl') || typeof current !== 'number') return null;
      const concurrent = concurrentPerReplica(snapshot);
      if (concurrent === null || concurrent < TGI_LIMITS.concurrency_binding_share * current) return null;
      return scaleUp(current, TGI_LIMITS.max_concurrent_requests.grow, TGI_LIMITS.max_concurrent_requests.max);
    },
    reason: 'Requests are refused at the max_concurrent_requests limit while decoding has headroom: raise the limit',
    expected_improvement_pct: [10, 40],
    source: `${LAUNCHER}, MAX_CONCURRENT_REQUESTS (default 128): "Having a low limit will refuse clients requests instead of having them wait for too long and is usually good to handle backpressure correctly"`,
  },
  {
    id: 'tgi.memory_fraction',
    addresses: ['queue_backlog', 'kv_cache_pressure', 'preemption'],
    parameter: 'cuda_memory_fraction',
    defaultValue: 1.0,
    // Useful only while TGI infers the token budget from the memory it may use.
    propose: (current, snapshot, bottlenecks, args) => {
      if (explicit(args, 'max_batch_total_tokens')) return null;
      return stepUp(current, TGI_LIMITS.cuda_memory_fraction.step, TGI_LIMITS.cuda_memory_fraction.max);
    },
    reason: 'More of the GPU for TGI means a larger inferred token budget for the running batch',
    expected_improvement_pct: [5, 20],
    source: `${LAUNCHER}, CUDA_MEMORY_FRACTION (default 1.0): "Limit the CUDA available memory. The allowed value equals the total visible memory multiplied by cuda-memory-fraction"`,
  },
  {
    id: 'tgi.batch_total_tokens',
    addresses: ['queue_backlog', 'kv_cache_pressure'],
    parameter: 'max_batch_total_tokens',
    defaultValue: null,
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('high_itl')) return null;
      return scaleUp(current, TGI_LIMITS.max_batch_total_tokens.grow, TGI_LIMITS.max_batch_total_tokens.max);
    },
    reason: 'An explicit token budget below what memory holds keeps requests queued: raise it in bounded steps',
    expected_improvement_pct: [10, 30],
    source: `${LAUNCHER}, MAX_BATCH_TOTAL_TOKENS: "Overall this number should be the largest possible amount that fits the remaining memory (after the model is loaded)."`,
  },
  {
    id: 'tgi.more_prefill_tokens',
    addresses: ['queue_backlog'],
    parameter: 'max_batch_prefill_tokens',
    defaultValue: null,
    // TGI refuses a prefill budget above an explicit max_batch_total_tokens.
    propose: (current, snapshot, bottlenecks, args) => {
      if (bottlenecks.has('high_itl')) return null;
      const total = args.max_batch_total_tokens;
      const cap = Math.min(TGI_LIMITS.max_batch_prefill_tokens.max, typeof total === 'number' ? total : Infinity);
      return scaleUp(current, TGI_LIMITS.max_batch_prefill_tokens.grow, cap);
    },
    reason: 'A larger prefill budget lets each prefill take in more queued requests',
    expected_improvement_pct: [5, 20],
    source: `${LAUNCHER}, MAX_BATCH_PREFILL_TOKENS: "Limits the number of tokens for the prefill operation. Since this operation take the most memory and is compute bound, it is interesting to limit the number of requests that can be sent."`,
  },
  {
    id: 'tgi.fewer_prefill_tokens',
    addresses: ['high_itl'],
    parameter: 'max_batch_prefill_tokens',
    defaultValue: null,
    // TGI refuses a prefill budget below max_input_tokens, so only with that known, and only a real step.
    propose: (current, snapshot, bottlenecks, args) => {
      const maxInput = args.max_input_tokens;
      if (!queueIdle(snapshot) || typeof current !== 'number' || typeof maxInput !== 'number') return null;
      const next = scaleDown(current, TGI_LIMITS.max_batch_prefill_tokens.shrink, Math.max(TGI_LIMITS.max_batch_prefill_tokens.min, maxInput));
      return next !== null && next <= TGI_LIMITS.min_meaningful_shrink * current ? next : null;
    },
    reason: 'Smaller prefills pause the running batch for less time: lower time per output token',
    expected_improvement_pct: [3, 12],
    source: `${LAUNCHER}, MAX_BATCH_PREFILL_TOKENS: "Since this operation take the most memory and is compute bound, it is interesting to limit the number of requests that can be sent."`,
  },
  {
    id: 'tgi.wait_less',
    addresses: ['queue_backlog'],
    parameter: 'max_waiting_tokens',
    defaultValue: 20,
    propose: (current, snapshot, bottlenecks) => {
      if (bottlenecks.has('high_itl')) return null;
      return scaleDown(current, TGI_LIMITS.max_waiting_tokens.shrink, TGI_LIMITS.max_waiting_tokens.min);
    },
    reason: 'Queued requests are forced into the batch after fewer decode steps: shorter queue wait, more prefill interruptions',
    expected_improvement_pct: [5, 20],
    source: `${LAUNCHER}, MAX_WAITING_TOKENS (default 20): "With a value too big, waiting queries could wait for a very long time before being allowed a slot in the running batch."`,
  },
  {
    id: 'tgi.wait_more',
    addresses: ['high_itl'],
    parameter: 'max_waiting_tokens',
    defaultValue: 20,
    propose: (current, snapshot) => {
      if (!queueIdle(snapshot)) return null;
      return scaleUp(current, TGI_LIMITS.max_waiting_tokens.grow, TGI_LIMITS.max_waiting_tokens.max);
    },
    reason: 'Running requests are paused for prefills less often: lower time per output token',
    expected_improvement_pct: [3, 12],
    source: `${LAUNCHER}, MAX_WAITING_TOKENS: "With a value too small, queries will always "steal" the compute to run prefill and running queries will be delayed by a lot."`,
  },
];
