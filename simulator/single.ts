/**
 * One simulated engine replica as its own process, started the way a real engine is: by its CLI flags.
 * It is what `servetune agent` supervises in tests and demos.
 *
 *   tsx simulator/single.ts vllm --port 8000 --max-num-seqs 256 --gpu-memory-utilization 0.9 --enable-prefix-caching
 *   tsx simulator/single.ts --engine tgi --port 3000 --max-concurrent-requests 128
 *
 * - The engine is the first positional (vllm, tgi, sglang) or `--engine`; default vllm. Other positionals
 *   (`serve`, a model name) are ignored. `--host` (default 127.0.0.1) and `--port` (default: the
 *   engine's usual port) say where it listens.
 * - Every other flag is an engine arg, read back to snake_case by agent/flags.ts (the rules the agent
 *   writes them with: `--no-x` is x=false for vLLM) and checked by the simulated engine's own validation.
 *   Args it refuses end the process with exit code 1 and the reasons on stderr, like an engine
 *   crashing on bad args. Unset args take the engine's defaults.
 * - `--startup-ms N` (a simulator option, not an engine arg) delays listening by N ms, like a model load.
 * - Serves `/health`, `/metrics` and the engine's introspection route (TGI `/info`, SGLang
 *   `/get_server_info`) at the root, plus the simulator's `/sim/v1/*` routes (load, faults, state).
 * - Stops on SIGTERM or SIGINT (exit 0).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { CommandParseError, parseEngineCommand } from '../agent/flags';
import { EngineTypeSchema, type EngineArgs, type EngineType } from '../models';
import { createDeploymentApp } from './app';
import { SimDeployment } from './deployment';
import { engineModel } from './engines';
import { DEFAULT_PORTS } from './simulatedFleet';

export interface SingleOptions {
  engine: EngineType;
  host: string;
  port: number;
  startupMs: number;
  args: EngineArgs;
}

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** The command line (without node and the script) → options; throws on what cannot be read. */
export function parseSingleArgs(argv: readonly string[]): SingleOptions {
  const known = (v: string | number | boolean | null | undefined) => (typeof v === 'string' && EngineTypeSchema.safeParse(v).success ? (v as EngineType) : undefined);
  // The engine decides how booleans read; parse once to find it, then with its rules.
  const probe = parseEngineCommand('vllm', argv);
  const flagEngine = probe.launch.engine === undefined ? undefined : known(probe.launch.engine as string);
  if (probe.launch.engine !== undefined && !flagEngine) throw new CommandParseError(`--engine must be vllm, tgi or sglang, got ${String(probe.launch.engine)}`);
  const engine = flagEngine ?? probe.fixed.map(known).find((e) => e !== undefined) ?? 'vllm';
  const parsed = parseEngineCommand(engine, argv);
  const args = { ...parsed.args };
  let startupMs = 0;
  if ('startup_ms' in args) {
    startupMs = Number(args.startup_ms);
    delete args.startup_ms;
    if (!Number.isFinite(startupMs) || startupMs < 0) throw new CommandParseError('--startup-ms must be a number of milliseconds ≥ 0');
  }
  const port = parsed.launch.port === undefined ? DEFAULT_PORTS[engine] : Number(parsed.launch.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommandParseError(`--port must be a port number, got ${String(parsed.launch.port)}`);
  const host = typeof parsed.launch.host === 'string' ? parsed.launch.host : '127.0.0.1';
  return { engine, host, port, startupMs, args };
}

async function main(): Promise<void> {
  let opts: SingleOptions;
  try {
    opts = parseSingleArgs(process.argv.slice(2));
  } catch (e) {
    return fail(`error: ${(e as Error).message}`, 2);
  }
  const engine = engineModel(opts.engine);
  const issues = engine.validateArgs(opts.args);
  if (issues.length > 0) {
    const lines = issues.map((i) => `ValueError: ${i.field.replace(/^engine_args\./, '')}: ${i.message}`);
    return fail([`simulated ${opts.engine} refused its engine args:`, ...lines].join('\n'), 1);
  }
  let stopping = false;
  const stopEarly = () => process.exit(0);
  process.once('SIGTERM', stopEarly);
  process.once('SIGINT', stopEarly);
  if (opts.startupMs > 0) await sleep(opts.startupMs);

  const baseUrl = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  const deployment = new SimDeployment({ engine, baseUrl, replicas: 1, now: () => performance.now() });
  // The replica runs what the command line says (revision "initial": this process is one engine start).
  deployment.replicas[0].engineArgs = { ...engine.defaultArgs, ...opts.args };

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => void res.status(200).end());
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(deployment.scrape(0));
  });
  const intro = engine.introspection;
  if (intro) app.get(intro.path, (_req, res) => void res.json(deployment.introspect(0)));
  app.use(createDeploymentApp(deployment));

  const server = http.createServer(app);
  server.once('error', (err) => fail(`error: cannot listen on ${opts.host}:${opts.port}: ${err.message}`, 1));
  server.listen(opts.port, opts.host, () => {
    console.log(`simulated ${opts.engine} replica on ${baseUrl} (pid ${process.pid}): ${JSON.stringify(deployment.replicas[0].engineArgs)}`);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.off('SIGTERM', stopEarly);
  process.off('SIGINT', stopEarly);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err) => fail(`error: ${err instanceof Error ? err.message : String(err)}`, 1));
}
