import type { EngineArgs, Load } from '../../models';
import { lognormalCdf, normalCdf } from '../lognormal';
import { resolveArg, validateFlags, type FlagSpecs } from './args';
import type { ArgIssue, EngineModel, Performance } from './types';
import {
  renderSglangMetrics,
  renderSglangServerInfo,
  SGLANG_HISTOGRAM_BUCKETS,
  sglangCounterRates,
  sglangObservations,
} from './sglangMetrics';

/**
 * Simulated SGLang (the `python -m sglang.launch_server` runtime, 0.5.x) serving
 * meta-llama/Llama-3.1-8B-Instruct on one 24 GB-class GPU per replica. The performance model is
 * documented in simulator/MODEL.md ("SGLang"); keep the two in step.
 */

/** What `sglang.launch_server` runs with when a replica starts (revision "initial"). `null` = auto. */
export const SGLANG_DEFAULT_ARGS: Readonly<EngineArgs> = Object.freeze({
  mem_fraction_static: 0.88,
  max_running_requests: null,
  schedule_conservativeness: 1.0,
  chunked_prefill_size: 8192,
  schedule_policy: 'fcfs',
  disable_radix_cache: false,
  cuda_graph_max_bs: 160,
  kv_cache_dtype: 'auto',
});

/** Defaults of server args a push may set but a fresh replica does not list. */
const SGLANG_IMPLICIT_DEFAULTS: Readonly<EngineArgs> = Object.freeze({
  max_prefill_tokens: 16384,
  max_total_tokens: null,
  page_size: 1,
  disable_cuda_graph: false,
  enable_mixed_chunk: false,
  disable_overlap_schedule: false,
  enable_torch_compile: false,
  quantization: null,
  context_length: null,
  stream_interval: 1,
  tp_size: 1,
  dp_size: 1,
});

/**
 * Deployment-wide offered load until `PUT /sim/v1/load`: chat with a shared system prompt and long
 * answers, 1.5 rps per replica, which the default KV pool serves badly.
 */
export const SGLANG_DEFAULT_LOAD: Readonly<Load> = Object.freeze({
  requests_per_second: 15,
  prompt_tokens: 1024,
  output_tokens: 512,
  shared_prefix_fraction: 0.5,
});

const QUANTIZATION_ONLINE = ['fp8'] as const;
const QUANTIZATION_PREQUANTIZED = ['awq', 'awq_marlin', 'gptq', 'gptq_marlin', 'marlin', 'gguf', 'modelopt', 'w8a8_int8', 'w8a8_fp8', 'compressed-tensors'] as const;

/** The server args the simulated engine knows (snake_case names of `sglang.launch_server` flags). */
export const SGLANG_FLAGS: FlagSpecs = Object.freeze({
  mem_fraction_static: { type: 'number', exclusiveMin: 0, max: 1 },
  max_running_requests: { type: 'int', min: 1, max: 65536 },
  schedule_conservativeness: { type: 'number', exclusiveMin: 0, max: 100 },
  chunked_prefill_size: { type: 'int', min: -1, max: 1_048_576 },
  schedule_policy: { type: 'enum', values: ['fcfs', 'lpm', 'random', 'dfs-weight', 'lof', 'priority'] },
  disable_radix_cache: { type: 'boolean' },
  cuda_graph_max_bs: { type: 'int', min: 1, max: 4096 },
  kv_cache_dtype: { type: 'enum', values: ['auto', 'fp8_e5m2', 'fp8_e4m3', 'bf16', 'bfloat16'] },
  max_prefill_tokens: { type: 'int', min: 1, max: 1_048_576 },
  max_total_tokens: { type: 'int', min: 1, max: 100_000_000 },
  page_size: { type: 'enum', values: [1, 16, 32, 64, 128] },
  disable_cuda_graph: { type: 'boolean' },
  enable_mixed_chunk: { type: 'boolean' },
  disable_overlap_schedule: { type: 'boolean' },
  enable_torch_compile: { type: 'boolean' },
  quantization: { type: 'enum', values: [...QUANTIZATION_ONLINE, ...QUANTIZATION_PREQUANTIZED] },
  context_length: { type: 'int', min: 1, max: 10_000_000 },
  stream_interval: { type: 'int', min: 1, max: 1024 },
  tp_size: { type: 'enum', values: [1] },
  dp_size: { type: 'enum', values: [1] },
});

/** Model constants (see MODEL.md for what each stands for and why). */
export const SGLANG_MODEL = Object.freeze({
  /** GPU memory in GB, and the share of it the bf16 weights take (16 GB of 24). */
  gpuMemoryGb: 24,
  weightsShare: 0.68,
  /** KV-pool tokens per unit of GPU memory fraction (bf16 KV, 128 KiB per token for Llama-3.1-8B). */
  kvTokensPerMemory: 185_000,
  /**
   * Memory outside mem_fraction_static that activations and CUDA graphs need, GB: a base, per
   * chunked_prefill_size token, per cuda_graph_max_bs. More than this and the engine OOMs at start-up.
   */
  reserveBaseGb: 0.5,
  reservePerPrefillTokenGb: 0.0001,
  reservePerGraphBatchGb: 0.002,
  /** Prefill throughput (uncached tokens/s) and the fixed cost of one prefill batch, s. */
  prefillTokensPerSecond: 10_000,
  prefillPassSeconds: 0.015,
  /** Decode step: base + per running request, s; ×(1 + penalty) for batches above cuda_graph_max_bs. */
  itlBase: 0.026,
  itlPerRunning: 0.0003,
  cudaGraphOffPenalty: 0.25,
  /** Without the overlap scheduler the CPU work is no longer hidden behind the GPU. */
  noOverlapPenalty: 0.08,
  /** torch.compile speeds up small decode batches. */
  torchCompileGain: 0.05,
  /** new_token_ratio: init = 0.7 × conservativeness, min = init × 0.14, decays over 600 decode steps. */
  initNewTokenRatio: 0.7,
  minNewTokenRatioFactor: 0.14,
  newTokenRatioDecaySteps: 600,
  /** Clients ask for max_new_tokens = this × the mean output length. */
  maxNewTokensFactor: 2,
  /** Spread (coefficient of variation) of a running request's KV footprint: outputs vary in length. */
  lengthSpread: 0.5,
  /** Share of the running requests one "KV cache pool is full" event retracts (at least one). */
  retractedShare: 0.05,
  /** A retracted request waits this long to be re-admitted, then recomputes its KV, s. */
  retractRequeueSeconds: 0.3,
  /** Share of the retraction penalty that lands before the first token. */
  retractTtftShare: 0.5,
  /** Relative ITL increase per retraction per request (the retract/re-prefill stalls the batch). */
  retractItlStall: 0.05,
  /** Radix-cache hits lost to eviction when the pool is full: FCFS vs LPM (which keeps prefix-sharing requests together). */
  evictionLossFcfs: 0.3,
  /** Pool usage from which cached prefixes start being evicted (the loss grows smoothly to its maximum at 1). */
  evictionOnset: 0.65,
  evictionLossLpm: 0.1,
  /** LPM sorts the waiting queue at every scheduling (up to 128 requests, then SGLang falls back to FCFS), s per request. */
  lpmSortSecondsPerWaiting: 0.0005,
  /** Errors: a floor, a share of retracted requests whose clients give up, and the client timeout while queued. */
  baseErrorFraction: 0.002,
  errorPerRetraction: 0.04,
  queueTimeoutSeconds: 30,
  sigma: Object.freeze({ ttft: 0.75, itl: 0.3, e2e: 0.25, queue: 1.0 }),
});

const ALL_DEFAULTS: EngineArgs = { ...SGLANG_IMPLICIT_DEFAULTS, ...SGLANG_DEFAULT_ARGS };

export interface SglangArgs {
  memFractionStatic: number;
  maxRunningRequests: number | null;
  scheduleConservativeness: number;
  chunkedPrefillSize: number;
  schedulePolicy: string;
  disableRadixCache: boolean;
  cudaGraphMaxBs: number;
  kvCacheDtype: string;
  maxPrefillTokens: number;
  maxTotalTokens: number | null;
  pageSize: number;
  disableCudaGraph: boolean;
  enableMixedChunk: boolean;
  disableOverlapSchedule: boolean;
  enableTorchCompile: boolean;
  quantization: string | null;
  contextLength: number | null;
  streamInterval: number;
}

export function resolveSglangArgs(args: EngineArgs): SglangArgs {
  const get = <T extends string | number | boolean>(name: string) => resolveArg<T>(args, ALL_DEFAULTS, name);
  const nullable = <T extends string | number>(name: string) => (get<T>(name) ?? null) as T | null;
  return {
    memFractionStatic: get<number>('mem_fraction_static'),
    maxRunningRequests: nullable<number>('max_running_requests'),
    scheduleConservativeness: get<number>('schedule_conservativeness'),
    chunkedPrefillSize: get<number>('chunked_prefill_size'),
    schedulePolicy: get<string>('schedule_policy'),
    disableRadixCache: get<boolean>('disable_radix_cache'),
    cudaGraphMaxBs: get<number>('cuda_graph_max_bs'),
    kvCacheDtype: get<string>('kv_cache_dtype'),
    maxPrefillTokens: get<number>('max_prefill_tokens'),
    maxTotalTokens: nullable<number>('max_total_tokens'),
    pageSize: get<number>('page_size'),
    disableCudaGraph: get<boolean>('disable_cuda_graph'),
    enableMixedChunk: get<boolean>('enable_mixed_chunk'),
    disableOverlapSchedule: get<boolean>('disable_overlap_schedule'),
    enableTorchCompile: get<boolean>('enable_torch_compile'),
    quantization: nullable<string>('quantization'),
    contextLength: nullable<number>('context_length'),
    streamInterval: get<number>('stream_interval'),
  };
}

/** Context length of Llama-3.1-8B-Instruct (its config.json). */
export const SGLANG_MODEL_CONTEXT_LENGTH = 131072;

const fp8Kv = (a: SglangArgs) => a.kvCacheDtype.startsWith('fp8');
const weightsShare = (a: SglangArgs) => SGLANG_MODEL.weightsShare * (a.quantization === 'fp8' ? 0.5 : 1);

/** Memory (fraction of the GPU) that activations and CUDA graphs need outside mem_fraction_static. */
export function sglangReservedFraction(args: EngineArgs): number {
  const a = resolveSglangArgs(args);
  const m = SGLANG_MODEL;
  const prefillChunk = a.chunkedPrefillSize > 0 ? a.chunkedPrefillSize : a.maxPrefillTokens;
  const graphs = a.disableCudaGraph ? 0 : a.cudaGraphMaxBs;
  return (m.reserveBaseGb + m.reservePerPrefillTokenGb * prefillChunk + m.reservePerGraphBatchGb * graphs) / m.gpuMemoryGb;
}

/** Largest mem_fraction_static that still leaves room for activations and CUDA graphs. */
export function sglangMaxMemFractionStatic(args: EngineArgs): number {
  return 1 - sglangReservedFraction(args);
}

/** max_total_num_tokens: the KV pool the static memory holds (an explicit max_total_tokens can only lower it). */
export function sglangKvPoolTokens(args: EngineArgs): number {
  const a = resolveSglangArgs(args);
  const profiled = Math.max(0, a.memFractionStatic - weightsShare(a)) * SGLANG_MODEL.kvTokensPerMemory * (fp8Kv(a) ? 2 : 1);
  const pool = a.maxTotalTokens !== null ? Math.min(a.maxTotalTokens, profiled) : profiled;
  return Math.floor(pool / a.pageSize) * a.pageSize;
}

/** max_running_requests: the explicit value, else what SGLang derives from the pool. */
export function sglangMaxRunningRequests(args: EngineArgs): number {
  const a = resolveSglangArgs(args);
  return a.maxRunningRequests ?? Math.max(1, Math.min(4096, Math.floor(sglangKvPoolTokens(args) / 2)));
}

/** Flag checks, then the start-up checks SGLang itself makes (memory profile, CUDA-graph capture). */
export function validateSglangArgs(args: EngineArgs): ArgIssue[] {
  const issues = validateFlags(SGLANG_FLAGS, args);
  if (issues.length > 0) return issues;
  const a = resolveSglangArgs(args);
  const add = (flag: string, message: string) => issues.push({ field: `engine_args.${flag}`, message });
  if ((QUANTIZATION_PREQUANTIZED as readonly string[]).includes(a.quantization ?? '')) {
    add('quantization', `quantization ${a.quantization} needs a checkpoint quantized with it; meta-llama/Llama-3.1-8B-Instruct is bf16 (use fp8)`);
  }
  if (a.chunkedPrefillSize === 0) add('chunked_prefill_size', 'chunked_prefill_size must be positive, or -1 to disable chunked prefill');
  if (a.contextLength !== null && a.contextLength > SGLANG_MODEL_CONTEXT_LENGTH) {
    add(
      'context_length',
      `User-specified context_length (${a.contextLength}) is greater than the derived context_length (${SGLANG_MODEL_CONTEXT_LENGTH}) from the model's max_position_embeddings`,
    );
  }
  if (a.enableMixedChunk && a.chunkedPrefillSize < 0) add('enable_mixed_chunk', 'enable_mixed_chunk requires chunked prefill (chunked_prefill_size > 0)');
  if (issues.length > 0) return issues;
  const maxMfs = sglangMaxMemFractionStatic(args);
  if (a.memFractionStatic > maxMfs) {
    add(
      'mem_fraction_static',
      `CUDA out of memory while capturing cuda graphs: mem_fraction_static ${a.memFractionStatic} leaves ${((1 - a.memFractionStatic) * SGLANG_MODEL.gpuMemoryGb).toFixed(2)} GB for activations and cuda graphs, which need ${((1 - maxMfs) * SGLANG_MODEL.gpuMemoryGb).toFixed(2)} GB (at most ${maxMfs.toFixed(3)} here). Set --mem-fraction-static to a smaller value, or lower --cuda-graph-max-bs / --chunked-prefill-size`,
    );
  } else if (sglangKvPoolTokens(args) <= 0) {
    add('mem_fraction_static', 'Not enough memory. Please try to increase --mem-fraction-static.');
  }
  return issues;
}

/** Sakasegawa's approximation of the M/M/c mean queue length: ρ^√(2(c+1)) / (1 − ρ). */
function queueLength(rho: number, servers: number): number {
  const r = Math.min(Math.max(rho, 0), 0.999);
  return Math.pow(r, Math.sqrt(2 * (Math.max(servers, 1) + 1))) / (1 - r);
}

const smoothstep = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));

/**
 * Steady state of one SGLang replica running `args` under `load` (its own share). Pure and deterministic.
 * Damped fixed-point iteration over (service time, pool usage), with new_token_ratio's retraction pressure solved inside:
 * concurrency = rps × service time; admission reserves new_token_ratio × the remaining max_new_tokens of
 * every running request; retractions push new_token_ratio up, which admits fewer.
 */
export function sglangPerformance(args: EngineArgs, load: Load): Performance {
  const a = resolveSglangArgs(args);
  const m = SGLANG_MODEL;
  const lambda = load.requests_per_second;
  const P = load.prompt_tokens;
  const O = load.output_tokens;
  const maxNew = Math.min(4096, Math.max(1, Math.round(m.maxNewTokensFactor * O)));
  const capacity = Math.max(sglangKvPoolTokens(args), 1);
  const runningCap = sglangMaxRunningRequests(args);
  const quant = a.quantization === 'fp8' ? { decode: 0.8, prefill: 0.8 } : { decode: 1, prefill: 1 };
  const prefillRate = m.prefillTokensPerSecond / quant.prefill;
  const lpm = a.schedulePolicy === 'lpm';
  const initRatio = Math.min(1, m.initNewTokenRatio * a.scheduleConservativeness);
  const minRatio = Math.min(1, initRatio * m.minNewTokenRatioFactor);
  const chunk = a.chunkedPrefillSize > 0 ? a.chunkedPrefillSize : Infinity;

  // Outer state: service time and pool usage (which sets how much of the radix cache survives eviction).
  let state = { service: P / prefillRate + O * m.itlBase, usage: 0 };
  let st = evaluate(state);
  for (let i = 0; i < 400; i++) {
    const next = { service: 0.5 * state.service + 0.5 * st.service, usage: 0.5 * state.usage + 0.5 * st.usage };
    const done = Math.abs(next.service - state.service) < 1e-12 && Math.abs(next.usage - state.usage) < 1e-12;
    state = next;
    st = evaluate(state);
    if (done) break;
  }

  function evaluate(s: { service: number; usage: number }) {
    // The radix cache keeps the shared prefix unless a full pool evicts it (LPM keeps prefix groups together).
    const evictionLoss = (lpm ? m.evictionLossLpm : m.evictionLossFcfs) * smoothstep((s.usage - m.evictionOnset) / (1 - m.evictionOnset));
    const hit = a.disableRadixCache ? 0 : load.shared_prefix_fraction * (1 - evictionLoss);
    const uncached = Math.max(1, P * (1 - hit));
    const shared = P * hit;
    // Per running request: what it holds on average; admission also counts new_token_ratio × its remaining max_new_tokens.
    const held = uncached + O / 2 + a.pageSize / 2;
    const remaining = Math.max(0, maxNew - O / 2);
    const demand = lambda * s.service;
    const chunks = uncached / chunk;
    const prefillBusy = Math.min(0.95, (lambda * uncached) / prefillRate + lambda * Math.max(1, chunks) * m.prefillPassSeconds);

    // new_token_ratio sits between its floor and its initial value, pushed up by retractions and decaying
    // back over 600 decode steps. Its steady state g solves g = 1 − exp(−retractions/s × decay time);
    // g − G(g) is increasing, so bisect.
    const atPressure = (g: number) => {
      const ratio = Math.min(1, minRatio + (initRatio - minRatio) * g);
      const admitSlots = Math.max(1, (capacity - shared) / (held + ratio * remaining));
      const slots = Math.max(1, Math.min(admitSlots, runningCap));
      const running = Math.min(demand, slots);
      const usage = (running * held + (running > 0 ? shared : 0)) / capacity;
      const graphFactor = a.disableCudaGraph
        ? 1 + m.cudaGraphOffPenalty
        : 1 + m.cudaGraphOffPenalty * smoothstep((running - a.cudaGraphMaxBs) / Math.max(4, 0.25 * a.cudaGraphMaxBs));
      const compileFactor = a.enableTorchCompile ? 1 - m.torchCompileGain * (1 - smoothstep((running - 16) / 16)) : 1;
      const step =
        (m.itlBase + m.itlPerRunning * running) * quant.decode * graphFactor * compileFactor * (a.disableOverlapSchedule ? 1 + m.noOverlapPenalty : 1);
      // Decode runs out of pool when the running requests' actual lengths outgrow what admission
      // assumed. Either admission is binding (the offered concurrency reaches the slots, likelier the
      // closer it is) and the pool sits at slots × held, or it is not and the pool sits at the mean
      // usage; in both cases the lengths spread around it (a normal tail, checked at every decode step).
      const spreadAt = (n: number) => (m.lengthSpread * held * Math.sqrt(Math.max(n, 1e-9))) / capacity;
      const overTail = (u: number, n: number) => 1 - normalCdf((1 - u) / spreadAt(n));
      const binding = demand > 0 ? 1 - normalCdf((slots - demand) / Math.sqrt(demand)) : 0;
      const fullUsage = (slots * held + shared) / capacity;
      const tail = running > 0 ? binding * overTail(fullUsage, slots) + (1 - binding) * overTail(usage, running) : 0;
      const stepsPerSecond = (1 - prefillBusy) / step;
      const events = stepsPerSecond * tail;
      // Each time the pool runs out, SGLang retracts enough requests for the next decode steps.
      const retractPerSecond = Math.min(lambda, events * Math.max(1, m.retractedShare * running));
      const next = 1 - Math.exp(-events * m.newTokenRatioDecaySteps * step);
      return { g, next, ratio, slots, running, usage, step, retractPerSecond };
    };
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (mid - atPressure(mid).next < 0) lo = mid;
      else hi = mid;
    }
    const eq = atPressure((lo + hi) / 2);
    const { ratio, slots, running, usage, step, retractPerSecond } = eq;
    const retractPerRequest = lambda > 0 ? retractPerSecond / lambda : 0;
    // Prefill batches pause decoding unless mixed chunking lets them ride along a decode batch.
    const interference = a.enableMixedChunk ? 1 + 0.3 * prefillBusy : 1 / (1 - prefillBusy);
    const itl = step * interference * (1 + m.retractItlStall * retractPerRequest);
    const waitingGuess = Math.max(0, demand - running);
    const lpmSort = lpm ? m.lpmSortSecondsPerWaiting * Math.min(128, waitingGuess) : 0;
    const prefill = uncached / prefillRate + Math.max(1, chunks) * m.prefillPassSeconds + (Math.max(1, chunks) - 1) * step + step / 2 + lpmSort;
    const recompute = (uncached + O / 2) / prefillRate;
    const holding = prefill + O * itl + retractPerRequest * recompute;
    const latency = prefill + O * itl + retractPerRequest * (recompute + m.retractRequeueSeconds);
    return { service: holding, usage, latency, hit, uncached, shared, ratio, slots, demand, running, retractPerRequest, step, itl, prefill, recompute };
  }

  const { hit, uncached, ratio, slots, running, retractPerRequest, itl, prefill, recompute, usage } = st;
  const rho = st.demand / slots;
  const queueWait = lambda > 0 ? Math.min(m.queueTimeoutSeconds, queueLength(rho, slots) / lambda) : 0;
  const queueSigma = m.sigma.queue;
  const queue = { median: queueWait / Math.exp((queueSigma * queueSigma) / 2), sigma: queueSigma };
  const overloadDrop = rho > 1 ? 1 - 1 / rho : 0;
  const timedOut = (1 - overloadDrop) * (1 - lognormalCdf(m.queueTimeoutSeconds, queue));
  const served = lambda * (1 - overloadDrop - timedOut);
  const errorFraction = Math.min(1, m.baseErrorFraction + m.errorPerRetraction * retractPerRequest + overloadDrop + timedOut);
  const tokenUsage = usage <= 0.9 ? usage : 1 - 0.1 * Math.exp(-(usage - 0.9) / 0.1);
  const retractTtft = m.retractTtftShare * retractPerRequest * (recompute + m.retractRequeueSeconds);
  const ttftMedian = queueWait + prefill + retractTtft;
  const e2eMedian = queueWait + st.latency;
  const retractions = served * retractPerRequest;

  return {
    offered_rps: lambda,
    served_rps: served,
    error_fraction: lambda > 0 ? errorFraction : 0,
    running,
    waiting: lambda * queueWait,
    kv_cache_usage: lambda > 0 ? tokenUsage : 0,
    kv_demand_ratio: usage,
    kv_capacity_tokens: capacity,
    preemptions_per_second: retractions,
    prompt_tokens_per_second: served * P,
    generation_tokens_per_second: served * O * (1 - errorFraction / 2),
    prefix_cache_queries_per_second: served * P,
    prefix_cache_hits_per_second: served * P * hit,
    ttft: { median: ttftMedian, sigma: m.sigma.ttft },
    itl: { median: itl, sigma: m.sigma.itl },
    e2e: { median: e2eMedian, sigma: m.sigma.e2e },
    queue,
    extra: {
      new_token_ratio: ratio,
      used_tokens: lambda > 0 ? tokenUsage * capacity : 0,
      max_total_num_tokens: capacity,
      retractions_per_request: retractPerRequest,
      retracted_input_tokens_per_request: uncached,
      retracted_output_tokens_per_request: O / 2,
      retracted_waiting: retractions * m.retractRequeueSeconds,
      admit_slots: slots,
      cuda_graph: running <= a.cudaGraphMaxBs && !a.disableCudaGraph ? 1 : 0,
    },
  };
}

export const sglangEngine: EngineModel = {
  engine: 'sglang',
  defaultArgs: SGLANG_DEFAULT_ARGS,
  defaultLoad: SGLANG_DEFAULT_LOAD,
  histogramBuckets: SGLANG_HISTOGRAM_BUCKETS,
  validateArgs: validateSglangArgs,
  performance: sglangPerformance,
  counterRates: sglangCounterRates,
  observations: sglangObservations,
  renderMetrics: renderSglangMetrics,
  introspection: {
    path: '/get_server_info',
    render: (args, perf) => renderSglangServerInfo(resolveSglangArgs(args), sglangKvPoolTokens(args), sglangMaxRunningRequests(args), perf),
  },
};
