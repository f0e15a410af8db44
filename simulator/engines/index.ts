import type { EngineType } from '../../models';
import type { EngineModel } from './types';
import { vllmEngine } from './vllm';

/** Engines the simulator can run (TGI and SGLang: add a module and register it here). */
export const ENGINES: Partial<Record<EngineType, EngineModel>> = { vllm: vllmEngine };

export function engineModel(engine: EngineType): EngineModel {
  const model = ENGINES[engine];
  if (!model) throw new Error(`the simulator has no ${engine} engine yet`);
  return model;
}

export type { EngineModel, Performance } from './types';
