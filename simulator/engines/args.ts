import type { EngineArgs } from '../../models';
import type { ArgIssue } from './types';

/** How one CLI flag's value is checked. `null` always means "unset: use the engine default". */
export type FlagSpec =
  | { type: 'int'; min?: number; max?: number; description?: string }
  | { type: 'number'; min?: number; max?: number; exclusiveMin?: number; description?: string }
  | { type: 'boolean'; description?: string }
  | { type: 'enum'; values: readonly (string | number)[]; description?: string };

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

function checkOne(name: string, spec: FlagSpec, value: EngineArgs[string]): string | null {
  if (value === null) return null;
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : `${name} must be a boolean`;
    case 'enum':
      return spec.values.includes(value as string | number)
        ? null
        : `${name} must be one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'int':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number`;
      if (spec.type === 'int' && !Number.isInteger(value)) return `${name} must be an integer`;
      if (spec.type === 'number' && spec.exclusiveMin !== undefined && !(value > spec.exclusiveMin)) {
        return `${name} must be greater than ${spec.exclusiveMin}`;
      }
      if (spec.min !== undefined && value < spec.min) return `${name} must be at least ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `${name} must be at most ${spec.max}`;
      return null;
    }
  }
}

/** Unknown flags and type/range violations, one issue per offending flag, fields as `engine_args.<flag>`. */
export function validateFlags(specs: FlagSpecs, args: EngineArgs): ArgIssue[] {
  const issues: ArgIssue[] = [];
  for (const [name, value] of Object.entries(args)) {
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (!spec) {
      issues.push({ field: `engine_args.${name}`, message: `unrecognized engine argument: ${name}` });
      continue;
    }
    const message = checkOne(name, spec, value);
    if (message) issues.push({ field: `engine_args.${name}`, message });
  }
  return issues;
}

/** `args[name]` if set (non-null), else `defaults[name]`. */
export function resolveArg<T extends string | number | boolean>(args: EngineArgs, defaults: EngineArgs, name: string): T {
  const v = args[name];
  return (v === null || v === undefined ? defaults[name] : v) as T;
}
