/**
 * `servetune agent [options] -- ENGINE COMMAND…`: run next to one engine replica, start the engine
 * and serve the agent routes of DESIGN.md (config read and push, discovery, /metrics and /health
 * proxied) until SIGTERM or SIGINT, which also stop the engine. See agent/ for the rules.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { CommandParseError, inferEngine } from '../agent/flags';
import { DEFAULT_AGENT_PORT, startAgent, type AgentOptions, type RunningAgent } from '../agent/server';
import type { EngineType } from '../models';
import { CliError, EXIT, type CliIO } from './io';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return n;
}

function parseMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n <= 0) throw new InvalidArgumentError('must be a positive number of milliseconds');
  return n;
}

interface AgentCliOptions {
  port: number;
  host: string;
  engine?: EngineType;
  enginePort?: number;
  engineHost?: string;
  revision: string;
  healthTimeout?: number;
  advertise?: string;
}

/** How the command waits for its end; tests may replace it. */
export interface AgentCliDeps {
  start(opts: AgentOptions): Promise<RunningAgent>;
  /** Resolves on the first SIGTERM or SIGINT. */
  untilSignal(): Promise<NodeJS.Signals>;
}

export const defaultAgentCliDeps: AgentCliDeps = {
  start: startAgent,
  untilSignal: () =>
    new Promise((resolve) => {
      const on = (signal: NodeJS.Signals) => {
        process.off('SIGTERM', on);
        process.off('SIGINT', on);
        resolve(signal);
      };
      process.on('SIGTERM', on);
      process.on('SIGINT', on);
    }),
};

export function registerAgent(program: Command, io: CliIO, deps: AgentCliDeps = defaultAgentCliDeps): Command {
  return program
    .command('agent')
    .description('supervise one engine replica: restart it on config pushes, roll back args it refuses, proxy its /metrics')
    .option('--port <port>', 'port of the agent routes', parsePort, DEFAULT_AGENT_PORT)
    .option('--host <host>', 'interface the agent binds (0.0.0.0 to serve other hosts)', '127.0.0.1')
    .addOption(new Option('--engine <engine>', 'engine of the command (default: from the command, e.g. `vllm serve`)').choices(['vllm', 'tgi', 'sglang']))
    .option('--engine-port <port>', "port the engine listens on (default: the command's --port, else 8000 vLLM, 3000 TGI, 30000 SGLang)", parsePort)
    .option('--engine-host <host>', 'host the engine is reached on', '127.0.0.1')
    .option('--revision <name>', 'revision the launch command is reported as', 'initial')
    .option('--health-timeout <ms>', 'how long a restarted engine has to become healthy (default AGENT_HEALTH_TIMEOUT_MS or 600000)', parseMs)
    .option('--advertise <url>', 'this agent\'s address in GET /servetune/v1/replicas (default: the address the client used)')
    .argument('<command...>', 'the engine command line, after --')
    .addHelpText(
      'after',
      `
Examples:
  servetune agent --port 9100 -- vllm serve meta-llama/Llama-3.1-8B-Instruct --max-num-seqs 256 --enable-prefix-caching
  servetune agent --port 9101 -- text-generation-launcher --model-id MODEL --port 3000 --max-concurrent-requests 128
  servetune agent --port 9102 --engine vllm -- npx tsx simulator/single.ts vllm --port 8000 --max-num-seqs 256

Engine args are the command's long flags in snake_case (--max-num-seqs 256 → max_num_seqs: 256); --host,
--port and the model flags stay part of the command. Pushed args are written back as flags: true → --flag,
false → --no-flag (vLLM) or left out (TGI, SGLang), null → left out.
PUT answers: 200 applied; 400 invalid; 422 engine refused the args, previous revision restored;
502 previous revision did not come back either.
Restarts drain first: /health turns 503 and the agent's /v1/* proxy refuses new requests (503 draining),
requests it admitted get AGENT_DRAIN_TIMEOUT_MS (default 30000) to finish; then SIGTERM goes to the engine
process itself, the rest of its process group after 5 s, and SIGKILL after AGENT_STOP_TIMEOUT_MS (default 30000).
Send inference traffic through the agent's /v1/* to get restarts that drop no request.`,
    )
    .action(async (command: string[], options: AgentCliOptions) => {
      const engine = options.engine ?? inferEngine(command);
      if (!engine) throw new CliError(`cannot tell the engine from "${command.join(' ')}": give --engine vllm|tgi|sglang`, EXIT.usage);
      let agent: RunningAgent;
      try {
        agent = await deps.start({
          engine,
          command,
          host: options.host,
          port: options.port,
          engineHost: options.engineHost,
          enginePort: options.enginePort,
          revision: options.revision,
          healthTimeoutMs: options.healthTimeout,
          advertiseUrl: options.advertise,
          log: (line) => io.err(`[agent] ${line}\n`),
        });
      } catch (e) {
        if (e instanceof CommandParseError) throw new CliError(`engine command: ${e.message}`, EXIT.usage);
        throw new CliError(`agent failed to start: ${(e as Error).message}`);
      }
      const status = agent.supervisor.status();
      io.err(`[agent] servetune agent for ${engine} on ${agent.url} (engine at ${agent.engineUrl}, revision ${status.revision})\n`);
      io.err(`[agent] engine command: ${status.command.join(' ')}\n`);
      void agent.ready.then((ok) => io.err(`[agent] ${ok ? 'engine healthy' : 'engine did not become healthy; retrying'}\n`));
      const signal = await deps.untilSignal();
      io.err(`[agent] ${signal}: stopping the engine\n`);
      await agent.close();
    });
}
