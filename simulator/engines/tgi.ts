import type { EngineArgs, Load } from '../../models';
import { lognormalCdf } from '../lognormal';
import { resolveArg, validateFlags, type FlagSpecs } from './args';
import type { ArgIssue, EngineModel, Performance } from './types';
import {
  renderTgiInfo,
  renderTgiMetrics,
  TGI_HISTOGRAM_BUCKETS,
  TGI_LAUNCH_MAX_INPUT_TOKENS,
  TGI_LAUNCH_MAX_TOTAL_TOKENS,
  tgiCounterRates,
  tgiObservations,
} from './tgiMetrics';

/**
 * Simulated Hugging Face text-generation-inference 3.x (backend v3: paged attention, prefix caching,
 * chunked prefill) serving meta-llama/Llama-3.1-8B-Instruct on one GPU per replica. The performance model
 * is documented in simulator/MODEL.md ("TGI"); keep the two in step.
 */

/**
 * What `text-generation-launcher` runs with when a replica starts (revision "initial"). `null` = let
 * TGI decide (max_batch_total_tokens is then inferred from free memory at warmup).
 */
export const TGI_DEFAULT_ARGS: Readonly<EngineArgs> = Object.freeze({
  max_concurrent_requests: 128,
  max_batch_prefill_tokens: 4096,
  max_batch_total_tokens: null,
  max_waiting_tokens: 20,
  waiting_served_ratio: 0.3,
  max_input_tokens: TGI_LAUNCH_MAX_INPUT_TOKENS,
  max_total_tokens: TGI_LAUNCH_MAX_TOTAL_TOKENS,
  cuda_memory_fraction: 1.0,
  quantize: null,
});

/** Defaults of flags a push may set but a fresh replica does not list (the launcher's own defaults). */
const TGI_IMPLICIT_DEFAULTS: Readonly<EngineArgs> = Object.freeze({
  max_batch_size: null,
  kv_cache_dtype: null,
  dtype: null,
  max_best_of: 2,
  max_stop_sequences: 4,
  max_top_n_tokens: 5,
  validation_workers: 2,
  max_client_batch_size: 4,
  num_shard: 1,
});

/**
 * Deployment-wide offered load until `PUT /sim/v1/load`: a RAG-style workload (long prompts whose first
 * quarter is a shared system prompt, short answers), 4.6 rps per replica.
 */
export const TGI_DEFAULT_LOAD: Readonly<Load> = Object.freeze({
  requests_per_second: 46,
  prompt_tokens: 2048,
  output_tokens: 128,
  shared_prefix_fraction: 0.25,
});

/** Values of `--quantize`: the ones that work on a bf16 checkpoint, and the ones that need a pre-quantized one. */
const QUANTIZE_ONLINE = ['fp8', 'eetq', 'bitsandbytes', 'bitsandbytes-nf4', 'bitsandbytes-fp4'] as const;
const QUANTIZE_PREQUANTIZED = ['awq', 'gptq', 'marlin', 'exl2', 'compressed-tensors'] as const;

/** The launcher flags the simulated engine knows (snake_case names of `text-generation-launcher` flags). */
export const TGI_FLAGS: FlagSpecs = Object.freeze({
  max_concurrent_requests: { type: 'int', min: 1, max: 1_000_000 },
  max_batch_prefill_tokens: { type: 'int', min: 1, max: 4_294_967_295 },
  max_batch_total_tokens: { type: 'int', min: 1, max: 4_294_967_295 },
  max_waiting_tokens: { type: 'int', min: 0, max: 1_000_000 },
  waiting_served_ratio: { type: 'number', min: 0, max: 1000 },
  max_input_tokens: { type: 'int', min: 1, max: 131_071 },
  max_total_tokens: { type: 'int', min: 2, max: 131_072 },
  cuda_memory_fraction: { type: 'number', exclusiveMin: 0, max: 1 },
  quantize: { type: 'enum', values: [...QUANTIZE_ONLINE, ...QUANTIZE_PREQUANTIZED] },
  max_batch_size: { type: 'int', min: 1, max: 1_000_000 },
  kv_cache_dtype: { type: 'enum', values: ['fp8_e4m3fn', 'fp8_e5m2'] },
  dtype: { type: 'enum', values: ['float16', 'bfloat16'] },
  max_best_of: { type: 'int', min: 1, max: 1000 },
  max_stop_sequences: { type: 'int', min: 0, max: 1000 },
  max_top_n_tokens: { type: 'int', min: 0, max: 1000 },
  validation_workers: { type: 'int', min: 1, max: 1024 },
  max_client_batch_size: { type: 'int', min: 1, max: 1_000_000 },
  num_shard: { type: 'enum', values: [1] },
});

/** Model constants (see MODEL.md for what each stands for and why). */
export const TGI_MODEL = Object.freeze({
  /** Share of GPU memory the bf16 weights and runtime take. */
  weightsShare: 0.5,
  /** KV-cache tokens per unit of GPU memory fraction (bf16 KV). */
  kvTokensPerMemory: 180_000,
  /** Memory fraction the warmup reserves per `max_batch_prefill_tokens` token (prefill activations). */
  prefillReservePerToken: 2e-6,
  /** Prefill throughput (uncached prompt tokens/s) and the fixed cost of one prefill pass (incl. concat/filter), s. */
  prefillTokensPerSecond: 24_000,
  prefillPassSeconds: 0.03,
  /** Decode step: base + per running request, seconds. */
  itlBase: 0.016,
  itlPerRunning: 0.0002,
  /** Clients ask for max_new_tokens = this × the mean output length (TGI reserves KV for all of it). */
  maxNewTokensFactor: 2,
  /** Spread (σ of ln) of prompt lengths and of generated lengths. */
  inputSigma: 0.15,
  generatedSigma: 0.5,
  /** Time the router spends validating/tokenizing one request, s. */
  validationSeconds: 0.0008,
  /** Errors: a floor of generation errors, and the client timeout while queued, s. */
  baseErrorFraction: 0.002,
  queueTimeoutSeconds: 30,
  /** Log-normal spreads (σ of ln latency). `itl` is the per-request mean time per token. */
  sigma: Object.freeze({ ttft: 0.6, itl: 0.2, e2e: 0.25, queue: 1.0 }),
  /** Quantization: weight-memory factor and decode/prefill time factors. */
  quantize: Object.freeze({
    fp8: { weights: 0.5, decode: 0.8, prefill: 0.8 },
    eetq: { weights: 0.5, decode: 0.85, prefill: 1.0 },
    bitsandbytes: { weights: 0.5, decode: 2.5, prefill: 2.0 },
    'bitsandbytes-nf4': { weights: 0.25, decode: 1.8, prefill: 1.6 },
    'bitsandbytes-fp4': { weights: 0.25, decode: 1.8, prefill: 1.6 },
  } as Record<string, { weights: number; decode: number; prefill: number }>),
});

const ALL_DEFAULTS: EngineArgs = { ...TGI_IMPLICIT_DEFAULTS, ...TGI_DEFAULT_ARGS };

export interface TgiArgs {
  maxConcurrentRequests: number;
  maxBatchPrefillTokens: number;
  /** Explicit `--max-batch-total-tokens`, or null (inferred at warmup). */
  maxBatchTotalTokens: number | null;
  maxWaitingTokens: number;
  waitingServedRatio: number;
  maxInputTokens: number;
  maxTotalTokens: number;
  cudaMemoryFraction: number;
  quantize: string | null;
  maxBatchSize: number | null;
  kvCacheDtype: string | null;
  dtype: string | null;
  maxBestOf: number;
  maxStopSequences: number;
  validationWorkers: number;
  maxClientBatchSize: number;
}

export function resolveTgiArgs(args: EngineArgs): TgiArgs {
  const get = <T extends string | number | boolean>(name: string) => resolveArg<T>(args, ALL_DEFAULTS, name);
  const nullable = <T extends string | number>(name: string) => (get<T>(name) ?? null) as T | null;
  return {
    maxConcurrentRequests: get<number>('max_concurrent_requests'),
    maxBatchPrefillTokens: get<number>('max_batch_prefill_tokens'),
    maxBatchTotalTokens: nullable<number>('max_batch_total_tokens'),
    maxWaitingTokens: get<number>('max_waiting_tokens'),
    waitingServedRatio: get<number>('waiting_served_ratio'),
    maxInputTokens: get<number>('max_input_tokens'),
    maxTotalTokens: get<number>('max_total_tokens'),
    cudaMemoryFraction: get<number>('cuda_memory_fraction'),
    quantize: nullable<string>('quantize'),
    maxBatchSize: nullable<number>('max_batch_size'),
    kvCacheDtype: nullable<string>('kv_cache_dtype'),
    dtype: nullable<string>('dtype'),
    maxBestOf: get<number>('max_best_of'),
    maxStopSequences: get<number>('max_stop_sequences'),
    validationWorkers: get<number>('validation_workers'),
    maxClientBatchSize: get<number>('max_client_batch_size'),
  };
}

function quantFactors(a: TgiArgs) {
  return (a.quantize && TGI_MODEL.quantize[a.quantize]) || { weights: 1, decode: 1, prefill: 1 };
}

/** Tokens of KV cache the memory left after weights and the prefill reservation holds (what warmup finds). */
export function tgiMemoryCapacityTokens(args: EngineArgs): number {
  const a = resolveTgiArgs(args);
  const m = TGI_MODEL;
  const free = a.cudaMemoryFraction - m.weightsShare * quantFactors(a).weights - m.prefillReservePerToken * a.maxBatchPrefillTokens;
  return Math.max(0, free) * m.kvTokensPerMemory * (a.kvCacheDtype ? 2 : 1);
}

/** The effective `max_batch_total_tokens`: the explicit value, or what warmup infers from memory. */
export function tgiMaxBatchTotalTokens(args: EngineArgs): number {
  const a = resolveTgiArgs(args);
  return a.maxBatchTotalTokens ?? Math.floor(tgiMemoryCapacityTokens(args));
}

/** Flag checks, then the launcher's argument validation and the warmup's memory checks. */
export function validateTgiArgs(args: EngineArgs): ArgIssue[] {
  const issues = validateFlags(TGI_FLAGS, args);
  if (issues.length > 0) return issues;
  const a = resolveTgiArgs(args);
  const add = (flag: string, message: string) => issues.push({ field: `engine_args.${flag}`, message });
  if ((QUANTIZE_PREQUANTIZED as readonly string[]).includes(a.quantize ?? '')) {
    add('quantize', `quantize ${a.quantize} requires a checkpoint quantized with ${a.quantize}; meta-llama/Llama-3.1-8B-Instruct is a bf16 checkpoint (use fp8, eetq or bitsandbytes)`);
  }
  if (a.dtype !== null && a.quantize !== null) add('dtype', '`--dtype` cannot be used with `--quantize`');
  if (a.maxInputTokens >= a.maxTotalTokens) {
    add('max_input_tokens', `\`max_input_tokens\` must be < \`max_total_tokens\`. Given: ${a.maxInputTokens} and ${a.maxTotalTokens}`);
  }
  if (a.maxInputTokens > a.maxBatchPrefillTokens) {
    add('max_batch_prefill_tokens', `\`max_batch_prefill_tokens\` must be >= \`max_input_tokens\`. Given: ${a.maxBatchPrefillTokens} and ${a.maxInputTokens}`);
  }
  if (a.maxBatchTotalTokens !== null) {
    if (a.maxBatchPrefillTokens > a.maxBatchTotalTokens) {
      add('max_batch_prefill_tokens', `\`max_batch_prefill_tokens\` must be <= \`max_batch_total_tokens\`. Given: ${a.maxBatchPrefillTokens} and ${a.maxBatchTotalTokens}`);
    }
    if (a.maxTotalTokens > a.maxBatchTotalTokens) {
      add('max_total_tokens', `\`max_total_tokens\` must be <= \`max_batch_total_tokens\`. Given: ${a.maxTotalTokens} and ${a.maxBatchTotalTokens}`);
    }
  }
  if (issues.length > 0) return issues;
  // Warmup: the prefill reservation must fit, then the KV cache must hold the batch budget.
  const capacity = tgiMemoryCapacityTokens(args);
  if (capacity <= 0) {
    add('max_batch_prefill_tokens', `Not enough memory to handle ${a.maxBatchPrefillTokens} prefill tokens. You need to decrease \`--max-batch-prefill-tokens\` (or raise --cuda-memory-fraction ${a.cudaMemoryFraction})`);
  } else if (a.maxBatchTotalTokens !== null && a.maxBatchTotalTokens > capacity) {
    add('max_batch_total_tokens', `Not enough memory to handle ${a.maxBatchTotalTokens} total tokens: the KV cache holds ${Math.floor(capacity)} at cuda_memory_fraction ${a.cudaMemoryFraction}. You need to decrease \`--max-batch-total-tokens\``);
  } else if (capacity < a.maxTotalTokens) {
    add('cuda_memory_fraction', `Not enough memory to handle ${a.maxTotalTokens} total tokens (the KV cache holds ${Math.floor(capacity)}). You need to decrease \`--max-total-tokens\` or \`--max-batch-prefill-tokens\`, or raise --cuda-memory-fraction`);
  }
  return issues;
}

/** Sakasegawa's approximation of the M/M/c mean queue length: ρ^√(2(c+1)) / (1 − ρ). */
function queueLength(rho: number, servers: number): number {
  const r = Math.min(Math.max(rho, 0), 0.999);
  return Math.pow(r, Math.sqrt(2 * (Math.max(servers, 1) + 1))) / (1 - r);
}

/** Smooth minimum of two non-negative values (≤ both; the smaller dominates). */
function softMin(a: number, b: number): number {
  if (!Number.isFinite(a)) return b;
  if (!Number.isFinite(b)) return a;
  if (a <= 0 || b <= 0) return 0;
  return Math.pow(Math.pow(a, -4) + Math.pow(b, -4), -0.25);
}

/**
 * P(a queue with geometric ratio r is full) when it holds at most n: (1 − r)·rⁿ / (1 − rⁿ⁺¹), the M/M/1/K
 * blocking probability; 1/(n + 1) at r = 1, → 1 − 1/r above it.
 */
function truncatedGeometricTail(r: number, n: number): number {
  if (!(r > 0)) return 0;
  if (!Number.isFinite(r)) return 1;
  if (Math.abs(1 - r) < 1e-9) return 1 / (n + 1);
  const logTerm = n * Math.log(r);
  if (r > 1) {
    // Divide through by rⁿ⁺¹ to stay finite: (1 − 1/r) / (1 − r^−(n+1)).
    return (1 - 1 / r) / (1 - Math.exp(-(n + 1) * Math.log(r)));
  }
  return ((1 - r) * Math.exp(logTerm)) / (1 - r * Math.exp(logTerm));
}

const smoothstep = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));

/**
 * Steady state of one TGI replica running `args` under `load` (its own share). Pure and deterministic.
 * Solves concurrency = rps × service time (Little's law) ↔ batch size → decode step → service time by
 * damped fixed-point iteration; the router's join cadence (max_waiting_tokens, waiting_served_ratio) and
 * prefill budget (max_batch_prefill_tokens) set the queueing before the first token.
 */
export function tgiPerformance(args: EngineArgs, load: Load): Performance {
  const a = resolveTgiArgs(args);
  const m = TGI_MODEL;
  const q = quantFactors(a);
  const lambda = load.requests_per_second;
  const P = load.prompt_tokens;
  const O = load.output_tokens;
  // v3 keeps a radix tree of KV blocks: the shared prefix is computed and stored once.
  const cachedFraction = load.shared_prefix_fraction;
  const uncached = Math.max(1, P * (1 - cachedFraction));
  const sharedTokens = P * cachedFraction;
  const maxNew = Math.max(1, Math.round(m.maxNewTokensFactor * O));

  // Validation: prompts over max_input_tokens, or prompt + max_new_tokens over max_total_tokens, get a 422.
  const inputLimit = Math.min(a.maxInputTokens, a.maxTotalTokens - maxNew);
  const inputDist = { median: P, sigma: m.inputSigma };
  const validationFailure = lambda > 0 ? 1 - lognormalCdf(Math.max(inputLimit, 0), inputDist) : 0;
  const accepted = lambda * (1 - validationFailure);

  const batchTotal = Math.max(1, tgiMaxBatchTotalTokens(args));
  // The queue reserves each request's prompt (minus its cached prefix) plus all of its max_new_tokens.
  const reservedPerRequest = uncached + maxNew;
  const kvSlots = Math.max(1, (batchTotal - sharedTokens) / reservedPerRequest);
  const slots = Math.max(1, Math.min(kvSlots, a.maxBatchSize ?? Infinity));
  const prefillRate = m.prefillTokensPerSecond / q.prefill;
  // Admitted per prefill: chunking fills the uncached-token budget exactly, so this is continuous.
  const perPrefillMax = a.maxBatchPrefillTokens / uncached;
  const prefillTime = (k: number) => (k * uncached) / prefillRate + m.prefillPassSeconds;

  let service = prefillTime(1) + O * m.itlBase;
  let st = evaluate(service);
  for (let i = 0; i < 300; i++) {
    const next = 0.5 * service + 0.5 * st.service;
    if (Math.abs(next - service) < 1e-12) break;
    service = next;
    st = evaluate(service);
  }

  function evaluate(serviceSeconds: number) {
    const demand = accepted * serviceSeconds;
    const running = Math.min(demand, slots, a.maxConcurrentRequests);
    const step = (m.itlBase + m.itlPerRunning * running) * q.decode;
    // Join cadence: a prefill runs after max_waiting_tokens decode steps, or sooner once the queue holds
    // waiting_served_ratio × batch size requests (backpressure). Arrivals in the meantime wait.
    const threshold = a.waitingServedRatio * running;
    const gap = Math.max(step, Math.min(a.maxWaitingTokens * step, accepted > 0 ? threshold / accepted : Infinity));
    const prefillLoad = (accepted * uncached) / prefillRate;
    const cycle = prefillLoad < 1 ? (gap + m.prefillPassSeconds) / (1 - prefillLoad) : Infinity;
    const perCycle = accepted * cycle;
    const admitRho = perCycle / perPrefillMax;
    // Waiting for the next join point, plus what overflows the prefill budget. Overflow piles up to
    // the backpressure threshold, which then forces a prefill at every step.
    const overflow = admitRho < 1 ? perPrefillMax * queueLength(admitRho, perPrefillMax) : Infinity;
    const joinQueue = Number.isFinite(cycle) ? perCycle / 2 + softMin(overflow, threshold + perPrefillMax / 2) : Infinity;
    // Even a prefill at every step cannot keep up: the admission path itself is overloaded.
    const fastest = step + prefillTime(perPrefillMax);
    const admitOverload = accepted > 0 ? (accepted * fastest) / perPrefillMax : 0;
    const perPrefill = Math.max(Math.min(perPrefillMax, Number.isFinite(perCycle) ? perCycle : perPrefillMax), Math.min(1, perPrefillMax));
    const prefillsPerSecond = accepted > 0 ? accepted / perPrefill : 0;
    const prefillBatch = prefillTime(perPrefill);
    const prefillBusy = Math.min(0.95, prefillsPerSecond * prefillBatch);
    const itl = step / (1 - prefillBusy);
    // A prompt longer than the budget is chunked over several prefill passes, a decode step between them.
    const chunks = uncached / a.maxBatchPrefillTokens;
    const prefillLatency = chunks > 1 ? chunks * (prefillTime(perPrefillMax) + step) - step : prefillBatch;
    const holding = prefillLatency + O * itl;
    return { service: holding, demand, running, step, threshold, cycle, admitRho, joinQueue, admitOverload, perPrefill, prefillsPerSecond, prefillBatch, prefillBusy, itl, prefillLatency };
  }

  const { running, step, threshold, admitRho, joinQueue, admitOverload, perPrefill, prefillsPerSecond, prefillBatch, prefillBusy, itl, prefillLatency } = st;
  // The batch slots (KV budget, max_batch_size, and max_concurrent_requests, which caps everything in
  // flight) form an M/M/c queue; max_concurrent_requests − running is the waiting room, and what does
  // not fit is refused with 429 "overloaded".
  const servers = Math.max(1, Math.min(slots, a.maxConcurrentRequests));
  const rho = Math.max(st.demand / servers, admitOverload, Number.isFinite(joinQueue) ? 0 : Infinity);
  const room = Math.max(0, a.maxConcurrentRequests - running) + Math.sqrt(servers);
  const slotQueue = rho < 1 ? queueLength(rho, servers) : Infinity;
  const joinWait = Number.isFinite(joinQueue) ? joinQueue : Infinity;
  const blockedAtSlots = Number.isFinite(rho) ? Math.min(1, Math.pow(Math.min(rho, 1), Math.sqrt(2 * (servers + 1)))) * truncatedGeometricTail(rho, room) : 1;
  const joinRatio = Number.isFinite(joinWait) ? joinWait / (1 + joinWait) : 1;
  const blockedAtJoin = truncatedGeometricTail(joinRatio, room);
  const rejected = accepted > 0 ? 1 - (1 - blockedAtSlots) * (1 - blockedAtJoin) : 0;
  const servedShare = 1 - rejected;
  const waiting = accepted > 0 ? softMin(joinWait + slotQueue, Math.max(0, a.maxConcurrentRequests - Math.min(running, servers))) : 0;
  const queueWait = accepted > 0 ? Math.min(m.queueTimeoutSeconds, waiting / (accepted * Math.max(servedShare, 1e-6))) : 0;
  const queueSigma = m.sigma.queue;
  const queue = { median: queueWait / Math.exp((queueSigma * queueSigma) / 2), sigma: queueSigma };
  const timedOut = servedShare * (1 - lognormalCdf(m.queueTimeoutSeconds, queue));
  const served = accepted * (servedShare - timedOut);
  const lambdaSafe = lambda > 0 ? lambda : 1;
  const overloadedFraction = (accepted * rejected) / lambdaSafe;
  const droppedFraction = (accepted * timedOut) / lambdaSafe;
  const generationFraction = m.baseErrorFraction * (served / lambdaSafe);
  const errorFraction = lambda > 0 ? Math.min(1, validationFailure + overloadedFraction + droppedFraction + generationFraction) : 0;

  const ttftMedian = queueWait + prefillLatency + m.validationSeconds;
  const e2eMedian = ttftMedian + O * itl;
  const reservedTokens = running * reservedPerRequest + (running > 0 ? sharedTokens : 0);
  const kvUsage = Math.min(1, reservedTokens / batchTotal);
  // Which trigger brought the prefills: backpressure once arrivals within max_waiting_tokens steps
  // exceed the threshold (or the budget overflows); chunking when a prompt is split over passes.
  const joinPressure = threshold > 0 ? (accepted * a.maxWaitingTokens * step) / threshold : Infinity;
  const backpressureShare = Math.max(joinPressure / (1 + joinPressure), smoothstep((admitRho - 0.7) / 0.4));
  const chunkingPerSecond = accepted * Math.max(0, uncached / a.maxBatchPrefillTokens - 1);

  return {
    offered_rps: lambda,
    served_rps: served,
    error_fraction: errorFraction,
    running,
    waiting,
    kv_cache_usage: lambda > 0 ? kvUsage : 0,
    kv_demand_ratio: lambda > 0 ? reservedTokens / batchTotal : 0,
    kv_capacity_tokens: batchTotal,
    preemptions_per_second: 0,
    prompt_tokens_per_second: served * P,
    generation_tokens_per_second: served * O,
    prefix_cache_queries_per_second: served * P,
    prefix_cache_hits_per_second: served * sharedTokens,
    ttft: { median: ttftMedian, sigma: m.sigma.ttft },
    itl: { median: itl, sigma: m.sigma.itl },
    e2e: { median: e2eMedian, sigma: m.sigma.e2e },
    queue,
    extra: {
      validation_failure_fraction: validationFailure,
      overloaded_fraction: overloadedFraction,
      dropped_fraction: droppedFraction,
      generation_fraction: generationFraction,
      accepted_rps: accepted,
      prefills_per_second: lambda > 0 ? prefillsPerSecond * servedShare : 0,
      prefill_batch_seconds: prefillBatch,
      next_batch_size: perPrefill,
      decode_steps_per_second: lambda > 0 ? (1 - prefillBusy) / step : 0,
      decode_step_seconds: step,
      backpressure_share: Number.isFinite(backpressureShare) ? backpressureShare : 1,
      chunking_per_second: chunkingPerSecond,
      reserved_tokens: lambda > 0 ? reservedTokens : 0,
      max_batch_total_tokens: batchTotal,
      max_new_tokens: maxNew,
    },
  };
}

export const tgiEngine: EngineModel = {
  engine: 'tgi',
  defaultArgs: TGI_DEFAULT_ARGS,
  defaultLoad: TGI_DEFAULT_LOAD,
  histogramBuckets: TGI_HISTOGRAM_BUCKETS,
  validateArgs: validateTgiArgs,
  performance: tgiPerformance,
  counterRates: tgiCounterRates,
  observations: tgiObservations,
  renderMetrics: renderTgiMetrics,
  introspection: { path: '/info', render: (args) => renderTgiInfo(resolveTgiArgs(args), tgiMaxBatchTotalTokens(args)) },
};
