import type { EngineType } from '../../models';
import { sglangEngine } from './sglang';
import { tgiEngine } from './tgi';
import type { EngineModel } from './types';
import { vllmEngine } from './vllm';

/** Engines the simulator can run. */
export const ENGINES: Readonly<Record<EngineType, EngineModel>> = Object.freeze({ vllm: vllmEngine, tgi: tgiEngine, sglang: sglangEngine });

export function engineModel(engine: EngineType): EngineModel {
  const model = Object.prototype.hasOwnProperty.call(ENGINES, engine) ? ENGINES[engine] : undefined;
  if (!model) throw new Error(`the simulator has no ${engine} engine`);
  return model;
}

export type { EngineModel, Performance } from './types';
