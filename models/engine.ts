import { z } from 'zod';

/** The inference engines servetune knows how to read and tune. */
export const EngineTypeSchema = z.enum(['vllm', 'tgi', 'sglang']);
export type EngineType = z.infer<typeof EngineTypeSchema>;

/** Engine args use the engine's own CLI flag names in snake_case; values are what the flag takes. */
export const EngineArgsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type EngineArgs = z.infer<typeof EngineArgsSchema>;
