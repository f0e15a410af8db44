import type { EngineArgs, Load } from '../../models';
import { lognormalCdf } from '../lognormal';
import { resolveArg, validateFlags, type FlagSpecs } from './args';
import type { ArgIssue, EngineModel, Performance } from './types';
import { VLLM_HISTOGRAM_BUCKETS, vllmCounterRates, vllmObservations, renderVllmMetrics } from './vllmMetrics';

/**
 * Simulated vLLM (V1 engine) serving meta-llama/Llama-3.1-8B-Instruct on one GPU per replica.
 * The performance model is documented in simulator/MODEL.md; keep the two in step.
 */

/** What `vllm serve` runs with when a replica starts (revision "initial"). */
export const VLLM_DEFAULT_ARGS: Readonly<EngineArgs> = Object.freeze({
  max_num_seqs: 256,
  gpu_memory_utilization: 0.9,
  enable_prefix_caching: false,
  max_num_batched_tokens: 2048,
  kv_cache_dtype: 'auto',
  block_size: 16,
});

/** Defaults of flags a push may set but a fresh replica does not list. */
const VLLM_IMPLICIT_DEFAULTS: Readonly<EngineArgs> = Object.freeze({
  enable_chunked_prefill: true,
  max_model_len: 8192,
});

/** Deployment-wide offered load until `PUT /sim/v1/load`. */
export const VLLM_DEFAULT_LOAD: Readonly<Load> = Object.freeze({
  requests_per_second: 40,
  prompt_tokens: 1024,
  output_tokens: 256,
  shared_prefix_fraction: 0.5,
});

/** The CLI flags the simulated engine knows (snake_case names of `vllm serve` flags) and their ranges. */
export const VLLM_FLAGS: FlagSpecs = Object.freeze({
  max_num_seqs: { type: 'int', min: 1, max: 65536 },
  gpu_memory_utilization: { type: 'number', exclusiveMin: 0, max: 1 },
  enable_prefix_caching: { type: 'boolean' },
  max_num_batched_tokens: { type: 'int', min: 1, max: 1048576 },
  kv_cache_dtype: { type: 'enum', values: ['auto', 'bfloat16', 'fp8', 'fp8_e4m3', 'fp8_e5m2'] },
  block_size: { type: 'enum', values: [1, 8, 16, 32, 64, 128] },
  enable_chunked_prefill: { type: 'boolean' },
  max_model_len: { type: 'int', min: 1, max: 131072 },
  swap_space: { type: 'number', min: 0, max: 1024 },
  cpu_offload_gb: { type: 'number', min: 0, max: 1024 },
  tensor_parallel_size: { type: 'enum', values: [1] },
  scheduling_policy: { type: 'enum', values: ['fcfs', 'priority'] },
  enforce_eager: { type: 'boolean' },
  async_scheduling: { type: 'boolean' },
  long_prefill_token_threshold: { type: 'int', min: 0, max: 1048576 },
});

/** Model constants (see MODEL.md for what each stands for and why). */
export const VLLM_MODEL = Object.freeze({
  /** Share of GPU memory the weights (and activations) take before the KV cache. */
  weightsShare: 0.5,
  /** KV-cache tokens per unit of GPU memory fraction (bf16 KV). Calibrated so the default load is tight at gmu 0.9. */
  kvTokensPerMemory: 75_000,
  /** Memory fraction reserved per max_num_seqs slot (sampler/persistent-batch buffers sized by max_num_seqs). */
  reservePerSeqSlot: 1e-5,
  /** Prefill throughput, tokens/s. */
  prefillTokensPerSecond: 16_000,
  /** Decode step time: base + per running request + per max_num_seqs slot (padded buffers), seconds. */
  itlBase: 0.016,
  itlPerRunning: 0.0002,
  itlPerSeqSlot: 0.000003,
  /** How much concurrent prefill work slows decode steps (chunked prefill on / off). */
  prefillInterferenceChunked: 0.3,
  prefillInterferenceUnchunked: 0.8,
  /** Lazy block allocation lets the scheduler admit this much beyond what fits (preemption is the valve). */
  kvAdmissionHeadroom: 1.25,
  /** KV demand ratio above which preemptions start, and their growth: per request = gain × excess². */
  preemptOnset: 0.85,
  preemptGain: 5,
  /** Wait to be rescheduled after a preemption, on top of recomputing the request's KV, seconds. */
  preemptRequeueSeconds: 0.4,
  /** Share of the preemption penalty that lands before the first token. */
  preemptTtftShare: 0.5,
  /** Relative ITL increase per preemption per request (recompute steps stall the batch). */
  preemptItlStall: 0.05,
  /** Errors: a floor, a share of preempted requests that end aborted, and client timeout in the queue. */
  baseErrorFraction: 0.002,
  errorPerPreemption: 0.06,
  queueTimeoutSeconds: 30,
  /** Log-normal spreads (σ of ln latency). */
  sigma: Object.freeze({ ttft: 0.75, itl: 0.3, e2e: 0.25, queue: 1.0 }),
});

interface VllmArgs {
  maxNumSeqs: number;
  gmu: number;
  prefixCaching: boolean;
  maxBatchedTokens: number;
  kvDtype: string;
  blockSize: number;
  chunkedPrefill: boolean;
  maxModelLen: number;
}

const ALL_DEFAULTS: EngineArgs = { ...VLLM_IMPLICIT_DEFAULTS, ...VLLM_DEFAULT_ARGS };

function resolve(args: EngineArgs): VllmArgs {
  const get = <T extends string | number | boolean>(name: string) => resolveArg<T>(args, ALL_DEFAULTS, name);
  return {
    maxNumSeqs: get<number>('max_num_seqs'),
    gmu: get<number>('gpu_memory_utilization'),
    prefixCaching: get<boolean>('enable_prefix_caching'),
    maxBatchedTokens: get<number>('max_num_batched_tokens'),
    kvDtype: get<string>('kv_cache_dtype'),
    blockSize: get<number>('block_size'),
    chunkedPrefill: get<boolean>('enable_chunked_prefill'),
    maxModelLen: get<number>('max_model_len'),
  };
}

/** KV-cache capacity in tokens: (gmu − weights share − buffers reserved by max_num_seqs) × constant, ×2 for fp8. */
export function vllmKvCapacityTokens(args: EngineArgs): number {
  const a = resolve(args);
  const m = VLLM_MODEL;
  const free = a.gmu - m.weightsShare - a.maxNumSeqs * m.reservePerSeqSlot;
  const dtypeFactor = a.kvDtype.startsWith('fp8') ? 2 : 1;
  return Math.max(0, free) * m.kvTokensPerMemory * dtypeFactor;
}

/** Flag checks, then the start-up checks vLLM itself makes. */
export function validateVllmArgs(args: EngineArgs): ArgIssue[] {
  const issues = validateFlags(VLLM_FLAGS, args);
  if (issues.length > 0) return issues;
  const a = resolve(args);
  if (a.chunkedPrefill && a.maxBatchedTokens < a.maxNumSeqs) {
    issues.push({
      field: 'engine_args.max_num_batched_tokens',
      message: `max_num_batched_tokens (${a.maxBatchedTokens}) must be greater than or equal to max_num_seqs (${a.maxNumSeqs})`,
    });
  }
  if (!a.chunkedPrefill && a.maxBatchedTokens < a.maxModelLen) {
    issues.push({
      field: 'engine_args.max_num_batched_tokens',
      message: `max_num_batched_tokens (${a.maxBatchedTokens}) is smaller than max_model_len (${a.maxModelLen}) with chunked prefill disabled`,
    });
  }
  const capacity = vllmKvCapacityTokens(args);
  if (capacity < a.maxModelLen) {
    issues.push({
      field: 'engine_args.gpu_memory_utilization',
      message:
        capacity <= 0
          ? `No available memory for the cache blocks at gpu_memory_utilization ${a.gmu}; try increasing it`
          : `max_model_len (${a.maxModelLen}) is larger than the maximum number of tokens that can be stored in KV cache (${Math.floor(capacity)}); increase gpu_memory_utilization or decrease max_model_len`,
    });
  }
  return issues;
}

/** Sakasegawa's approximation of the M/M/c mean queue length: ρ^√(2(c+1)) / (1 − ρ). */
function queueLength(rho: number, servers: number): number {
  const r = Math.min(Math.max(rho, 0), 0.999);
  return Math.pow(r, Math.sqrt(2 * (Math.max(servers, 1) + 1))) / (1 - r);
}

/**
 * Steady state of one vLLM replica running `args` under `load` (its own share of the deployment's
 * load). Pure and deterministic. Solves the loop concurrency = rps × service time (Little's law)
 * ↔ batch size → ITL → service time by damped fixed-point iteration.
 */
export function vllmPerformance(args: EngineArgs, load: Load): Performance {
  const a = resolve(args);
  const m = VLLM_MODEL;
  const lambda = load.requests_per_second;
  const P = load.prompt_tokens;
  const O = load.output_tokens;
  const cachedFraction = a.prefixCaching ? load.shared_prefix_fraction : 0;

  const capacity = Math.max(vllmKvCapacityTokens(args), 1);
  const uncachedPrompt = P * (1 - cachedFraction);
  // A request's KV footprint averaged over its life (prompt + half the output), plus half a block of fragmentation;
  // with prefix caching the shared prefix is stored once for all requests.
  const perSeqTokens = uncachedPrompt + O / 2 + a.blockSize / 2;
  const sharedTokens = P * cachedFraction;
  const kvSeqCapacity = Math.max(capacity - sharedTokens, 0) / perSeqTokens;
  const slots = Math.max(1, Math.min(a.maxNumSeqs, kvSeqCapacity * m.kvAdmissionHeadroom));

  const prefillBusy = Math.min(0.95, (lambda * uncachedPrompt) / m.prefillTokensPerSecond);
  const interference = 1 + (a.chunkedPrefill ? m.prefillInterferenceChunked : m.prefillInterferenceUnchunked) * prefillBusy;
  const recomputeSeconds = (uncachedPrompt + O / 2) / m.prefillTokensPerSecond;
  const preemptPenalty = recomputeSeconds + m.preemptRequeueSeconds;

  let service = uncachedPrompt / m.prefillTokensPerSecond + O * m.itlBase;
  let st = evaluate(service);
  for (let i = 0; i < 200; i++) {
    const next = 0.5 * service + 0.5 * st.service;
    if (Math.abs(next - service) < 1e-12) break;
    service = next;
    st = evaluate(service);
  }

  function evaluate(serviceSeconds: number) {
    const offeredConcurrency = lambda * serviceSeconds;
    const running = Math.min(offeredConcurrency, slots);
    const rho = offeredConcurrency / slots;
    const demandRatio = (running * perSeqTokens + (running > 0 ? sharedTokens : 0)) / capacity;
    const preemptPerRequest = m.preemptGain * Math.pow(Math.max(0, demandRatio - m.preemptOnset), 2);
    const itl =
      (m.itlBase + m.itlPerRunning * running + m.itlPerSeqSlot * a.maxNumSeqs) *
      interference *
      (1 + m.preemptItlStall * preemptPerRequest);
    // Chunked prefill: a prompt needs uncached/(budget − decode tokens) steps; unchunked it stalls one long step.
    const budget = Math.max(1, a.maxBatchedTokens - (a.chunkedPrefill ? running : 0));
    const prefill = Math.max(uncachedPrompt / m.prefillTokensPerSecond, (uncachedPrompt / budget) * itl) + itl / 2;
    const preemptTtft = m.preemptTtftShare * preemptPerRequest * preemptPenalty;
    // Time holding KV blocks: a preempted request frees its blocks while it waits to be rescheduled,
    // so only the recompute counts here; the requeue wait only lengthens its latency.
    const holding = prefill + O * itl + preemptPerRequest * recomputeSeconds;
    const latency = prefill + O * itl + preemptPerRequest * preemptPenalty;
    return { service: holding, latency, running, rho, demandRatio, preemptPerRequest, itl, prefill, preemptTtft };
  }

  const { running, rho, demandRatio, preemptPerRequest, itl, prefill, preemptTtft } = st;
  const queueWait =
    lambda > 0 ? Math.min(m.queueTimeoutSeconds, queueLength(rho, slots) / lambda) : 0;
  const queueSigma = m.sigma.queue;
  // Most requests are admitted at once: a wide spread whose mean is the modelled wait.
  const queue = { median: queueWait / Math.exp((queueSigma * queueSigma) / 2), sigma: queueSigma };
  // Overload (offered concurrency beyond the slots) is dropped; of the rest, those queued past the
  // client timeout abort too.
  const overloadDrop = rho > 1 ? 1 - 1 / rho : 0;
  const timedOut = (1 - overloadDrop) * (1 - lognormalCdf(m.queueTimeoutSeconds, queue));
  const served = lambda * (1 - overloadDrop - timedOut);
  const errorFraction = Math.min(
    1,
    m.baseErrorFraction + m.errorPerPreemption * preemptPerRequest + overloadDrop + timedOut,
  );
  const kvUsage = demandRatio <= 0.9 ? demandRatio : 1 - 0.1 * Math.exp(-(demandRatio - 0.9) / 0.1);
  const ttftMedian = queueWait + prefill + preemptTtft;
  const e2eMedian = queueWait + st.latency;

  return {
    offered_rps: lambda,
    served_rps: served,
    error_fraction: lambda > 0 ? errorFraction : 0,
    running,
    waiting: lambda * queueWait,
    kv_cache_usage: lambda > 0 ? kvUsage : 0,
    kv_demand_ratio: demandRatio,
    kv_capacity_tokens: capacity,
    preemptions_per_second: served * preemptPerRequest,
    prompt_tokens_per_second: served * P,
    generation_tokens_per_second: served * O * (1 - errorFraction / 2),
    prefix_cache_queries_per_second: a.prefixCaching ? served * P : 0,
    prefix_cache_hits_per_second: served * P * cachedFraction,
    ttft: { median: ttftMedian, sigma: m.sigma.ttft },
    itl: { median: itl, sigma: m.sigma.itl },
    e2e: { median: e2eMedian, sigma: m.sigma.e2e },
    queue,
  };
}

export const vllmEngine: EngineModel = {
  engine: 'vllm',
  defaultArgs: VLLM_DEFAULT_ARGS,
  defaultLoad: VLLM_DEFAULT_LOAD,
  histogramBuckets: VLLM_HISTOGRAM_BUCKETS,
  validateArgs: validateVllmArgs,
  performance: vllmPerformance,
  counterRates: vllmCounterRates,
  observations: vllmObservations,
  renderMetrics: (acc, perf, args) => renderVllmMetrics(acc, perf, args, resolveCacheConfig(args)),
};

function resolveCacheConfig(args: EngineArgs) {
  const a = resolve(args);
  return {
    blockSize: a.blockSize,
    cacheDtype: a.kvDtype,
    gpuMemoryUtilization: a.gmu,
    enablePrefixCaching: a.prefixCaching,
    numGpuBlocks: Math.floor(vllmKvCapacityTokens(args) / a.blockSize),
  };
}
