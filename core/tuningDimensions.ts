import type { EngineType } from '../models';
import { SGLANG_LIMITS } from './knowledge/sglang';
import { TGI_LIMITS } from './knowledge/tgi';
import { VLLM_LIMITS } from './knowledge/vllm';

/**
 * One numeric flag the tuning search may move beyond the rules, inside the rules' own hard limits.
 * `linear` flags move by `step`; `log` flags by the factor `step` (×step up, ÷step down), as the rules do.
 * The lower bounds the rules leave open (they only ever raise memory fractions) are the tuning guides'
 * usual floor for a dedicated server.
 */
export interface SearchDimension {
  flag: string;
  scale: 'linear' | 'log';
  min: number;
  max: number;
  /** The first move: an amount (linear) or a factor (log). */
  step: number;
  /** Values are rounded to this many decimals (0 for integer flags). */
  decimals: number;
}

/** Moves are halved after a step that did not help, and a flag is done once its step falls below a quarter of the first. */
export const MIN_STEP_SHARE = 0.25;

const DIMENSIONS: Record<EngineType, SearchDimension[]> = {
  vllm: [
    { flag: 'gpu_memory_utilization', scale: 'linear', min: 0.7, max: VLLM_LIMITS.gpu_memory_utilization.max, step: VLLM_LIMITS.gpu_memory_utilization.step, decimals: 2 },
    { flag: 'max_num_seqs', scale: 'log', min: VLLM_LIMITS.max_num_seqs.min, max: VLLM_LIMITS.max_num_seqs.max, step: VLLM_LIMITS.max_num_seqs.grow, decimals: 0 },
    { flag: 'max_num_batched_tokens', scale: 'log', min: VLLM_LIMITS.max_num_batched_tokens.min, max: VLLM_LIMITS.max_num_batched_tokens.max, step: VLLM_LIMITS.max_num_batched_tokens.grow, decimals: 0 },
  ],
  sglang: [
    { flag: 'mem_fraction_static', scale: 'linear', min: 0.7, max: SGLANG_LIMITS.mem_fraction_static.max, step: SGLANG_LIMITS.mem_fraction_static.step, decimals: 2 },
    { flag: 'schedule_conservativeness', scale: 'linear', min: SGLANG_LIMITS.schedule_conservativeness.min, max: SGLANG_LIMITS.schedule_conservativeness.max, step: SGLANG_LIMITS.schedule_conservativeness.step, decimals: 2 },
    { flag: 'chunked_prefill_size', scale: 'log', min: 2048, max: SGLANG_LIMITS.chunked_prefill_size.max, step: SGLANG_LIMITS.chunked_prefill_size.grow, decimals: 0 },
    { flag: 'max_running_requests', scale: 'log', min: SGLANG_LIMITS.max_running_requests.min, max: SGLANG_LIMITS.max_running_requests.max, step: SGLANG_LIMITS.max_running_requests.grow, decimals: 0 },
  ],
  tgi: [
    { flag: 'max_batch_prefill_tokens', scale: 'log', min: TGI_LIMITS.max_batch_prefill_tokens.min, max: TGI_LIMITS.max_batch_prefill_tokens.max, step: TGI_LIMITS.max_batch_prefill_tokens.grow, decimals: 0 },
    { flag: 'max_waiting_tokens', scale: 'log', min: TGI_LIMITS.max_waiting_tokens.min, max: TGI_LIMITS.max_waiting_tokens.max, step: TGI_LIMITS.max_waiting_tokens.grow, decimals: 0 },
    { flag: 'max_concurrent_requests', scale: 'log', min: 16, max: TGI_LIMITS.max_concurrent_requests.max, step: TGI_LIMITS.max_concurrent_requests.grow, decimals: 0 },
    { flag: 'cuda_memory_fraction', scale: 'linear', min: 0.7, max: TGI_LIMITS.cuda_memory_fraction.max, step: TGI_LIMITS.cuda_memory_fraction.step, decimals: 2 },
  ],
};

export function searchDimensions(engine: EngineType): SearchDimension[] {
  return DIMENSIONS[engine];
}

/** The value `moves` steps of `size` (in the dimension's own scale) away from `from`, clamped and rounded. */
export function moved(dim: SearchDimension, from: number, direction: 1 | -1, size: number): number {
  const raw = dim.scale === 'linear' ? from + direction * size : from * size ** direction;
  const rounded = Math.round(raw * 10 ** dim.decimals) / 10 ** dim.decimals;
  return Math.min(dim.max, Math.max(dim.min, rounded));
}

/** The step between two values in the dimension's own scale (an amount, or a factor ≥ 1). */
export function stepBetween(dim: SearchDimension, from: number, to: number): number {
  if (dim.scale === 'linear') return Math.abs(to - from);
  return from > 0 && to > 0 ? Math.max(to / from, from / to) : dim.step;
}

/** Half a step, in the dimension's own scale (the square root of a factor). */
export function halved(dim: SearchDimension, size: number): number {
  return dim.scale === 'linear' ? size / 2 : Math.sqrt(size);
}

/** Whether a step is still worth a rollout: at least a quarter of the first step (for factors, of its logarithm). */
export function stepLargeEnough(dim: SearchDimension, size: number): boolean {
  if (dim.scale === 'linear') return size >= dim.step * MIN_STEP_SHARE - 1e-9;
  return Math.log(size) >= Math.log(dim.step) * MIN_STEP_SHARE - 1e-9;
}
