/**
 * Engine args (snake_case, DESIGN.md) ↔ the engine's command-line flags, per engine.
 *
 * - A name becomes a long flag in kebab-case: `max_num_seqs` → `--max-num-seqs`.
 * - Numbers and strings follow the flag as their own token: `--max-num-seqs 256`, `--kv-cache-dtype fp8`.
 * - `null` means "unset": the flag is left out, so the engine uses its own default.
 * - Booleans: `true` is the bare flag (`--enable-prefix-caching`). `false` depends on the engine:
 *   vLLM declares its boolean engine args with argparse's BooleanOptionalAction, so `false` is
 *   `--no-enable-prefix-caching` (needed: some default to true, e.g. enable_chunked_prefill);
 *   SGLang (argparse `store_true`) and TGI (clap `bool` switches) have no negative form, so `false`
 *   leaves the flag out.
 *
 * Parsing a command line goes the other way: the tokens before the first `--flag` (the program, its
 * subcommand, the model) stay as they are; from there `--name value` and `--name=value` give
 * `name: value` (numeric values become numbers), a `--name` followed by another flag or by the end is
 * `name: true`, and for vLLM `--no-name` is `name: false`. A few launch flags (where the engine listens,
 * which model it serves) belong to the command itself: they are kept verbatim, never reported as
 * engine args and never pushable. Only long flags are understood.
 */
import type { EngineArgs, EngineType } from '../models';

export type BooleanStyle = 'negatable' | 'switch';

export interface EngineConvention {
  /** How `false` is written: `--no-x` (negatable) or by leaving the flag out (switch). */
  booleans: BooleanStyle;
  /** Port the engine listens on when the command has no `--port`. */
  defaultPort: number;
  /** Health endpoint, answered 200 once the engine serves. */
  healthPath: string;
  /** The engine's own config-introspection route, proxied by the agent (TGI `/info`, SGLang `/get_server_info`). */
  introspectionPath?: string;
  /** snake_case names of launch flags: part of the command, not engine args. */
  launchFlags: readonly string[];
}

/** `engine` is the simulator's own launch flag (simulator/single.ts); no real engine has it. */
const COMMON_LAUNCH_FLAGS = ['host', 'port', 'engine'];

export const ENGINE_CONVENTIONS: Readonly<Record<EngineType, EngineConvention>> = Object.freeze({
  vllm: {
    booleans: 'negatable',
    defaultPort: 8000,
    healthPath: '/health',
    launchFlags: [...COMMON_LAUNCH_FLAGS, 'model', 'served_model_name', 'tokenizer', 'download_dir', 'uds', 'api_key'],
  },
  tgi: {
    booleans: 'switch',
    defaultPort: 3000,
    healthPath: '/health',
    introspectionPath: '/info',
    launchFlags: [...COMMON_LAUNCH_FLAGS, 'hostname', 'model_id', 'revision', 'tokenizer_config_path', 'huggingface_hub_cache'],
  },
  sglang: {
    booleans: 'switch',
    defaultPort: 30000,
    healthPath: '/health',
    introspectionPath: '/get_server_info',
    launchFlags: [...COMMON_LAUNCH_FLAGS, 'model_path', 'tokenizer_path', 'served_model_name', 'api_key', 'download_dir'],
  },
});

export function isLaunchFlag(engine: EngineType, name: string): boolean {
  return ENGINE_CONVENTIONS[engine].launchFlags.includes(name);
}

const ARG_NAME = /^[a-z][a-z0-9_]*$/;

export const toFlag = (name: string): string => `--${name.replace(/_/g, '-')}`;
export const toArgName = (flag: string): string => flag.replace(/^--/, '').replace(/-/g, '_');

/** The engine's flags for `args`, in the args' order. */
export function argsToFlags(engine: EngineType, args: EngineArgs): string[] {
  const negatable = ENGINE_CONVENTIONS[engine].booleans === 'negatable';
  const flags: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (value === null) continue;
    if (value === true) flags.push(toFlag(name));
    else if (value === false) {
      if (negatable) flags.push(toFlag(`no_${name}`));
    } else flags.push(toFlag(name), String(value));
  }
  return flags;
}

/** Problems that keep args from being written as flags at all (the engine judges the values). */
export function argIssues(engine: EngineType, args: EngineArgs): Array<{ field: string; message: string }> {
  const issues: Array<{ field: string; message: string }> = [];
  for (const [name, value] of Object.entries(args)) {
    const field = `engine_args.${name}`;
    if (!ARG_NAME.test(name)) issues.push({ field, message: `not a snake_case flag name: ${JSON.stringify(name)}` });
    else if (isLaunchFlag(engine, name)) issues.push({ field, message: `${name} is a launch flag of the agent's command; it cannot be pushed` });
    else if (typeof value === 'number' && !Number.isFinite(value)) issues.push({ field, message: 'must be a finite number' });
    else if (typeof value === 'string' && (value === '' || value.startsWith('-') || /[\0\n\r]/.test(value))) {
      issues.push({ field, message: 'must be a non-empty value that does not start with "-" or contain line breaks' });
    }
  }
  return issues;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function parseValue(raw: string): string | number {
  return NUMBER.test(raw) ? Number(raw) : raw;
}

export interface ParsedCommand {
  /** The program, its positionals and its launch flags, verbatim: what every restart starts with. */
  fixed: string[];
  /** Engine args from the remaining flags. */
  args: EngineArgs;
  /** Launch flags found, by snake_case name (e.g. `port`). */
  launch: Record<string, string | true>;
}

export class CommandParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandParseError';
  }
}

/** Splits an engine command line into its fixed part and its engine args (see the file comment). */
export function parseEngineCommand(engine: EngineType, argv: readonly string[]): ParsedCommand {
  const isFlag = (t: string | undefined) => t !== undefined && t.startsWith('--') && t.length > 2;
  const first = argv.findIndex(isFlag);
  const fixed = first < 0 ? [...argv] : argv.slice(0, first);
  const args: EngineArgs = {};
  const launch: Record<string, string | true> = {};
  if (first < 0) return { fixed, args, launch };
  const negatable = ENGINE_CONVENTIONS[engine].booleans === 'negatable';
  for (let i = first; i < argv.length; i++) {
    const token = argv[i];
    if (!isFlag(token)) {
      throw new CommandParseError(
        `unexpected argument ${JSON.stringify(token)} after ${argv[i - 1]}: put positionals (the model) before the flags, and give each flag one value`,
      );
    }
    const eq = token.indexOf('=');
    const flag = eq > 0 ? token.slice(0, eq) : token;
    let name = toArgName(flag);
    let value: string | number | boolean;
    const verbatim = [token];
    if (eq > 0) value = parseValue(token.slice(eq + 1));
    else if (i + 1 < argv.length && !isFlag(argv[i + 1])) {
      value = parseValue(argv[i + 1]);
      verbatim.push(argv[i + 1]);
      i++;
    } else if (negatable && name.startsWith('no_') && name.length > 3) {
      name = name.slice(3);
      value = false;
    } else value = true;
    if (!ARG_NAME.test(name)) throw new CommandParseError(`not a flag name: ${flag}`);
    if (isLaunchFlag(engine, name)) {
      fixed.push(...verbatim);
      launch[name] = typeof value === 'boolean' ? true : String(value);
    } else args[name] = value;
  }
  return { fixed, args, launch };
}

/** Which engine a command line runs, from its `--engine` (the simulator's), program or positionals; undefined if it does not say. */
export function inferEngine(argv: readonly string[]): EngineType | undefined {
  const known = (v: string | undefined) => (v === 'vllm' || v === 'tgi' || v === 'sglang' ? (v as EngineType) : undefined);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--engine' && known(argv[i + 1])) return known(argv[i + 1]);
    if (argv[i].startsWith('--engine=') && known(argv[i].slice(9))) return known(argv[i].slice(9));
  }
  const firstFlag = argv.findIndex((t) => t.startsWith('--'));
  for (const token of firstFlag < 0 ? argv : argv.slice(0, firstFlag)) {
    const base = (token.split('/').pop() ?? token).toLowerCase();
    if (base === 'tgi' || base.startsWith('text-generation')) return 'tgi';
    if (base.includes('sglang')) return 'sglang';
    if (base === 'vllm' || base.startsWith('vllm.')) return 'vllm';
  }
  return undefined;
}
